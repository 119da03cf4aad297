import { createRequire } from 'node:module';
import type { Dispatcher, Pool } from 'undici';
import type autocannon from 'autocannon';
import { z } from 'zod';
import { parseDuration } from '../base/duration.ts';
import { endpointText } from '../base/endpoint.ts';
import { FaultlineError } from '../errors.ts';
import { keyRemapChecker } from '../checkers/key-remap.ts';
import type { MetricSink } from '../metrics/sink.ts';
import { SHARE_TALLY, type Adapter, type DriverContext, type DriverDefinition, type ErrorKind, type LoadDriver, type RunWindow } from './driver.ts';
import { httpWorkloadSchema, normalizeRequests, type HttpWorkload, type NormalizedRequest } from './http-workload.ts';
import { ClosedLoops, OpenPacer, type SendOne } from './pacer.ts';
import { weightedCycle } from './weighted-cycle.ts';
import { RawHttpClient } from './raw-http.ts';
import { classifyError } from './transport-errors.ts';

const DEFAULT_TIMEOUT_MS = 10_000;
const SERVED_BY = 'x-served-by';

function statusKind(status: number): string | undefined {
  return status >= 200 && status < 400 ? undefined : `http_${status}`;
}

/** The workload's requests in their fixed interleaving by weight, the same order for every design. */
export function requestCycle(requests: readonly NormalizedRequest[]): NormalizedRequest[] {
  return weightedCycle(requests);
}

/**
 * Receives one response from undici and records it when the body has ended: latency from the
 * intended send time (µs), outcome, which process answered, and for keyed requests a history
 * record of the key and its backend. One small object per request, with its methods on the
 * prototype, keeps the hot path lean.
 */
class ResponseRecorder implements Dispatcher.DispatchHandler {
  private status = 0;
  private servedBy: string | undefined;
  private readonly sink: MetricSink;
  private readonly op: string;
  private readonly intendedMs: number;
  private readonly done: () => void;
  private readonly key: string | undefined;

  constructor(sink: MetricSink, op: string, intendedMs: number, done: () => void, key: string | undefined) {
    this.sink = sink;
    this.op = op;
    this.intendedMs = intendedMs;
    this.done = done;
    this.key = key;
  }

  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    const h = headers[SERVED_BY];
    this.servedBy = Array.isArray(h) ? h[0] : h;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    const now = performance.now();
    const outcome = statusKind(this.status) ?? 'ok';
    this.sink.op(this.op, this.intendedMs, Math.round((now - this.intendedMs) * 1000), outcome);
    if (this.servedBy !== undefined) {
      this.sink.tally(SHARE_TALLY, this.servedBy, this.intendedMs);
      if (this.key !== undefined && outcome === 'ok') this.sink.history(now, { key: this.key, by: this.servedBy });
    }
    this.done();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.sink.failed(this.op, this.intendedMs, classifyError(err));
    this.done();
  }
}

/** Hands out keys 0, 1, … keys-1 in turn for each request of the workload that has keys. */
class KeyCounter {
  private readonly next = new Map<NormalizedRequest, number>();

  /** The path to send and its key (undefined for a request without keys). */
  take(req: NormalizedRequest): { path: string; key: string | undefined } {
    if (req.keys === undefined) return { path: req.path, key: undefined };
    const n = this.next.get(req) ?? 0;
    this.next.set(req, n + 1);
    const key = String(n % req.keys);
    return { path: req.path.replace('{key}', key), key };
  }
}

/** Client settings of an HTTP design (handed to its adapter, recorded in result.json). */
export interface HttpClientOptions {
  /** Requests sent on one connection before the first answers (HTTP/1.1 pipelining). Default 1: none. */
  pipelining?: number;
}

const httpClientSchema = z.strictObject({
  pipelining: z.number().int().min(1).max(100).optional(),
});

// The clients are loaded when a design's load is created (synchronously: drivers are made in
// one step), so listing or validating scenarios never loads them.
const require = createRequire(import.meta.url);

/** An undici pool on the design's first endpoint, and the send of one request through it. */
class UndiciClient {
  readonly pool: Pool;
  private readonly keys = new KeyCounter();
  private readonly cycle: NormalizedRequest[];
  private readonly timeoutMs: number;
  private readonly sink: MetricSink;

  constructor(url: string, connections: number, client: HttpClientOptions, cycle: NormalizedRequest[], timeoutMs: number, sink: MetricSink) {
    const { Pool } = require('undici') as typeof import('undici');
    this.pool = new Pool(url, { connections, pipelining: client.pipelining ?? 1, keepAliveTimeout: 30_000 });
    this.cycle = cycle;
    this.timeoutMs = timeoutMs;
    this.sink = sink;
  }

  readonly send: SendOne = (k, dueMs, done) => {
    const req = this.cycle[k % this.cycle.length]!;
    const { path, key } = this.keys.take(req);
    this.pool.dispatch(
      { path, method: req.method, headers: req.headers, body: req.body, headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs },
      new ResponseRecorder(this.sink, req.name, dueMs, done, key),
    );
  };

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => {});
  }
}

/** The HTTP adapter: open or closed model over undici, or closed over autocannon or the raw engine. */
function createHttpDriver(workload: HttpWorkload, ctx: DriverContext<HttpClientOptions>): LoadDriver {
  const timeoutMs = parseDuration(workload.timeout ?? '10s') ?? DEFAULT_TIMEOUT_MS;
  const cycle = requestCycle(normalizeRequests(workload));
  const url = endpointText('http', ctx.entry.endpoints[0]!);
  if (workload.model === 'closed' && workload.engine === 'autocannon') return new AutocannonDriver(workload.connections, url, cycle, timeoutMs, ctx);
  const connections = workload.model === 'open' ? workload.connections ?? 256 : workload.connections;
  if (workload.model === 'closed' && workload.engine === 'raw' && (ctx.client.pipelining ?? 1) > 1) {
    throw new FaultlineError('invalid-scenario', `engine 'raw' sends one request at a time on each connection; this design asks for pipelining ${ctx.client.pipelining}`, { hint: "drop the design's pipelining, or use engine 'undici' or 'autocannon', which pipeline" });
  }
  const client =
    workload.model === 'closed' && workload.engine === 'raw'
      ? new RawHttpClient(ctx.entry.endpoints[0]!, cycle, timeoutMs, ctx.sink)
      : new UndiciClient(url, connections, ctx.client, cycle, timeoutMs, ctx.sink);
  const boundMs = timeoutMs + 1000;
  if (workload.model === 'open') {
    const pacer = new OpenPacer(workload, { sink: ctx.sink, send: client.send });
    return {
      model: 'open',
      connections,
      targetRate: pacer.targetRate,
      start: (window) => pacer.start(window),
      stop: () => pacer.stop(boundMs),
      close: () => client.close(),
    };
  }
  const loops = new ClosedLoops(connections, { sink: ctx.sink, send: client.send });
  return {
    model: 'closed',
    connections,
    start: (window) => loops.start(window),
    stop: () => loops.stop(boundMs),
    close: () => client.close(),
  };
}

/** Closed model on autocannon's HTTP client, recording its per-response times in µs. */
class AutocannonDriver implements LoadDriver {
  readonly model = 'closed' as const;
  readonly connections: number;
  private readonly url: string;
  private readonly cycle: NormalizedRequest[];
  private readonly timeoutMs: number;
  private readonly ctx: DriverContext<HttpClientOptions>;
  private instance: autocannon.Instance | undefined;
  private finished: Promise<void> = Promise.resolve();

  constructor(connections: number, url: string, cycle: NormalizedRequest[], timeoutMs: number, ctx: DriverContext<HttpClientOptions>) {
    this.connections = connections;
    this.url = url;
    this.cycle = cycle;
    this.timeoutMs = timeoutMs;
    this.ctx = ctx;
  }

  start(window: RunWindow): void {
    const { sink } = this.ctx;
    const { endMs } = window;
    const seconds = Math.max(1, Math.ceil((endMs - performance.now()) / 1000) + 1);
    const requests = this.cycle.map((r) => ({ method: r.method, path: r.path, headers: r.headers, body: r.body }));
    // The schema allows this engine a single request only, so every response is that operation.
    const op = this.cycle[0]!.name;
    let finish: () => void = () => {};
    this.finished = new Promise((resolve) => (finish = resolve));
    const instance = (require('autocannon') as typeof autocannon)(
      {
        url: this.url,
        connections: this.connections,
        duration: seconds,
        timeout: Math.ceil(this.timeoutMs / 1000),
        requests: requests as autocannon.Request[],
        pipelining: this.ctx.client.pipelining ?? 1,
      },
      () => finish(),
    );
    this.instance = instance;
    // autocannon hands its response time in fractional ms: keep the µs it measured.
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      const sentAt = performance.now() - responseTimeMs;
      sink.sent(sentAt, 0);
      sink.op(op, sentAt, Math.round(responseTimeMs * 1000), statusKind(statusCode) ?? 'ok');
    });
    instance.on('reqError', (err: Error) => {
      const now = performance.now();
      sink.sent(now, 0);
      sink.failed(op, now, classifyError(err));
    });
    const stopAt = setTimeout(() => instance.stop(), Math.max(0, endMs - performance.now()));
    void this.finished.then(() => clearTimeout(stopAt));
  }

  async stop(): Promise<void> {
    this.instance?.stop();
    await this.finished;
  }

  async close(): Promise<void> {}
}

/** What a call over HTTP may end in besides `ok`: transport failures and statuses. */
export const HTTP_ERROR_KINDS: readonly ErrorKind[] = [
  { name: 'timeout', description: 'no answer within the timeout' },
  { name: 'refused', description: 'connection refused' },
  { name: 'reset', description: 'connection reset or closed mid-request' },
  { name: 'other', description: 'any other transport error' },
  { name: 'http_<status>', description: 'an answer with that status (http_503)', matches: /^http_[1-5]\d\d$/ },
  { name: 'http_<class>xx', description: 'an answer with a status of that class (http_5xx)', matches: /^http_[1-5]xx$/ },
];

const httpAdapter: Adapter<HttpWorkload, HttpClientOptions> = { client: httpClientSchema, create: createHttpDriver };

/** The `http` workload kind: requests over HTTP/1.1, one adapter (`http`). */
export const httpDriver: DriverDefinition<HttpWorkload> = {
  description: 'HTTP requests, open or closed model, with per-backend tallies and key tracking',
  workload: httpWorkloadSchema,
  wording: { one: 'request', many: 'requests' },
  vocabulary: {
    errorKinds: HTTP_ERROR_KINDS,
    tallies: { [SHARE_TALLY]: { description: 'requests per responding process or backend (x-served-by)' } },
  },
  adapters: { http: httpAdapter },
  checkers: [keyRemapChecker],
  keepsHistory: (w) => normalizeRequests(w).some((r) => r.keys !== undefined),
};
