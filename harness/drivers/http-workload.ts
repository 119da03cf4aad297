import { z } from 'zod';
import type { Duration } from '../base/duration.ts';
import { durationSchema, openLoadFields } from '../base/schema-helpers.ts';

/** One kind of request in an HTTP workload. */
export interface HttpRequestSpec {
  /** Operation name in results; default `METHOD path`. */
  name?: string;
  /** Default `GET`. */
  method?: 'GET' | 'HEAD' | 'POST' | 'PUT' | 'PATCH' | 'DELETE';
  /** Path and query, starting with `/`, e.g. `/work?ms=2`. */
  path: string;
  headers?: Record<string, string>;
  /** Request body (sent as is). */
  body?: string;
  /** Relative share of this request in the mix; default 1. Requests are interleaved in a fixed order, the same for every design. */
  weight?: number;
  /**
   * Request keys: `{key}` in the path is replaced by 0, 1, … keys-1 in turn, and the backend
   * that served each key is tracked, so a hashing balancer's remapping can be measured
   * (`remapped`). Default: no keys.
   */
  keys?: number;
}

interface HttpWorkloadCommon {
  kind: 'http';
  /** A single request path (shorthand for `requests: [{ path }]`). Give `path` or `requests`. */
  path?: string;
  /** A mix of requests. Give `path` or `requests`. */
  requests?: HttpRequestSpec[];
  /** Per-request timeout, counted as a `timeout` error when exceeded. Default `10s`. */
  timeout?: Duration;
}

/**
 * Open model (constant or ramping arrival rate): requests are sent at their scheduled times
 * whatever the target does, and latency counts from the scheduled time, so a stalled target
 * shows in the percentiles (no coordinated omission).
 */
export interface OpenHttpWorkload extends HttpWorkloadCommon {
  model: 'open';
  /** Requests per second at the start of the measured window (and during warm-up). */
  rate: number;
  /** Ramps after the start, each from the previous rate to `target` req/s linearly over `duration`; the last rate holds to the end. */
  stages?: { duration: Duration; target: number }[];
  /** Upper bound on connections to the target (opened as needed). Default 256. */
  connections?: number;
  /** Requests in flight at most; a send beyond it is dropped and counted (`dropped`). Default 10000. */
  maxInFlight?: number;
}

/** Closed model: `connections` loops, each sending its next request when the previous one answers. */
export interface ClosedHttpWorkload extends HttpWorkloadCommon {
  model: 'closed';
  /** Concurrent connections, each with one request in flight. */
  connections: number;
  /**
   * Load engine, all recording µs latency: `undici` (default), `autocannon` (a single request
   * without keys), or `raw`: HTTP/1.1 straight over sockets, each request serialised once, one
   * request in flight per connection (the client's `pipelining` does not apply), the least CPU
   * per request of the three; its `timeout` counts the whole response from the send.
   */
  engine?: 'undici' | 'autocannon' | 'raw';
}

export type HttpWorkload = OpenHttpWorkload | ClosedHttpWorkload;

/** Builds an HTTP workload, e.g. `http({ model: 'open', rate: 200, path: '/work?ms=2' })`. */
export function http<const W extends Omit<OpenHttpWorkload, 'kind'> | Omit<ClosedHttpWorkload, 'kind'>>(w: W): W & { kind: 'http' } {
  return { kind: 'http', ...w };
}

/** RFC 7230 `token`: what a header name may be made of. */
const headerToken = /^[!#$%&'*+\-.^_`|~0-9A-Za-z]+$/;
/** Printable Latin-1 and tab: what the HTTP clients accept in a header value (no CR, LF, NUL or other control). */
const headerValueText = /^[\t\x20-\x7e\x80-\xff]*$/;
/** What the clients accept in a request target: no space, no control character, nothing beyond Latin-1. */
const pathText = /^[\x21-\x7e\x80-\xff]*$/;

/**
 * Request headers, checked here so a bad one stops the run before anything starts: a name with
 * a newline or a value with CR/LF would otherwise end the header early (or split the request,
 * in the raw engine), or be refused by the client once every design is up.
 */
const headersSchema = z.record(z.string(), z.string()).check((ctx) => {
  for (const [name, value] of Object.entries(ctx.value)) {
    if (!headerToken.test(name)) {
      ctx.issues.push({ code: 'custom', input: name, path: [name], continue: true, message: `header name ${JSON.stringify(name)} is not an RFC 7230 token: use letters, digits and ! # $ % & ' * + - . ^ _ \` | ~ (no spaces, colons or control characters)` });
    }
    if (!headerValueText.test(value)) {
      ctx.issues.push({ code: 'custom', input: value, path: [name], continue: true, message: `header value ${JSON.stringify(value)} holds a CR, LF, NUL or other control character (or one beyond Latin-1); a value is one line of printable text` });
    }
  }
});

const pathSchema = z.string().startsWith('/', 'must start with /').regex(pathText, 'a request path has no spaces, control characters (CR, LF, NUL) or characters beyond Latin-1: percent-encode them');

const requestSchema = z.strictObject({
  name: z.string().min(1).optional(),
  method: z.enum(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE']).optional(),
  path: pathSchema,
  headers: headersSchema.optional(),
  body: z.string().optional(),
  weight: z.number().int().positive().max(1000).optional(),
  keys: z.number().int().positive().max(1_000_000).optional(),
}).check((ctx) => {
  const r = ctx.value;
  if ((r.keys !== undefined) !== r.path.includes('{key}')) {
    ctx.issues.push({ code: 'custom', input: r, path: [r.keys === undefined ? 'path' : 'keys'], message: 'a path with {key} needs keys: N, and keys needs {key} in the path' });
  }
});

const common = {
  kind: z.literal('http'),
  path: pathSchema.optional(),
  requests: z.array(requestSchema).min(1).optional(),
  timeout: durationSchema.optional(),
};

export const httpWorkloadSchema = z
  .discriminatedUnion('model', [
    z.strictObject({
      ...common,
      model: z.literal('open'),
      ...openLoadFields,
      connections: z.number().int().positive().max(10_000).optional(),
    }),
    z.strictObject({
      ...common,
      model: z.literal('closed'),
      connections: z.number().int().positive().max(10_000),
      engine: z.enum(['undici', 'autocannon', 'raw']).optional(),
    }),
  ])
  .check((ctx) => {
    const w = ctx.value;
    if ((w.path === undefined) === (w.requests === undefined)) {
      ctx.issues.push({ code: 'custom', input: w, path: ['path'], message: 'give exactly one of `path` or `requests`' });
    }
    if (w.model === 'closed' && w.engine === 'autocannon' && ((w.requests?.length ?? 1) > 1 || w.requests?.[0]?.keys !== undefined)) {
      ctx.issues.push({ code: 'custom', input: w, path: ['engine'], message: "engine 'autocannon' drives a single request without keys; use engine 'undici' for a mix or keys" });
    }
  });

/** A request with its operation name, method and weight filled in. */
export type NormalizedRequest = Required<Pick<HttpRequestSpec, 'name' | 'method' | 'path' | 'weight'>> & Pick<HttpRequestSpec, 'headers' | 'body' | 'keys'>;

/** The requests of a workload, each with its operation name and weight filled in. */
export function normalizeRequests(w: HttpWorkload): NormalizedRequest[] {
  const list = w.requests ?? [{ path: w.path! }];
  return list.map((r) => ({
    name: r.name ?? `${r.method ?? 'GET'} ${r.path}`,
    method: r.method ?? 'GET',
    path: r.path,
    weight: r.weight ?? 1,
    ...(r.headers ? { headers: r.headers } : {}),
    ...(r.body !== undefined ? { body: r.body } : {}),
    ...(r.keys !== undefined ? { keys: r.keys } : {}),
  }));
}
