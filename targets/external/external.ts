import { z } from 'zod';
import type { Endpoint } from '../../harness/base/endpoint.ts';
import { FaultlineError } from '../../harness/errors.ts';
import { Wait } from '../../harness/runtime/wait.ts';
import { entryAt, type ServiceSpec } from '../../harness/runtime/service-spec.ts';
import type { TargetDefinition } from '../target.ts';

export interface ExternalOptions {
  /**
   * Where the service already listens, as `scheme://host:port`: the scheme is the protocol the
   * load speaks (`http`, or `amqp` for a broker that takes `guest`), the host a loopback
   * address (`127.0.0.1`, `[::1]`, or `localhost`, which means 127.0.0.1). Without a port:
   * the scheme's own (80, 5672). Paths, queries and credentials belong to the workload.
   */
  url: string;
  /** Service name inside the design; the load's link to it is `client-><name>`. Default `app`. */
  name?: string;
  /** With an `http` url: a path that must answer 200 to GET before the design starts, e.g. `/health`. Default: a TCP connect only. */
  health?: string;
}

/** The protocols an external service may speak, with their default ports. */
const schemes: Readonly<Record<string, number>> = { http: 80, amqp: 5672 };
const loopback: Readonly<Record<string, string>> = { '127.0.0.1': '127.0.0.1', '[::1]': '::1', localhost: '127.0.0.1' };
/** How long a service that should already run may take to answer before the design starts. */
const READY_TIMEOUT_MS = 5_000;

/** An external service's address: the protocol the load speaks and the loopback endpoint. */
export interface ExternalAddress extends Endpoint {
  protocol: string;
}

/**
 * Reads an external service's url, or says what is wrong with it. faultline drives load only
 * at this machine's loopback or at services it started itself, so any other host is refused.
 */
export function parseExternalUrl(text: string): ExternalAddress | string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    return `'${text}' is not a url; give one such as http://127.0.0.1:8080`;
  }
  const protocol = url.protocol.replace(/:$/, '');
  const defaultPort = schemes[protocol];
  if (defaultPort === undefined) return `'${protocol}://' is not a protocol an external service can speak here; use ${Object.keys(schemes).map((s) => `${s}://`).join(' or ')}`;
  const host = loopback[url.hostname];
  if (host === undefined) {
    return `host '${url.hostname}' is not this machine's loopback: faultline drives load only at 127.0.0.1, ::1 or localhost, or at services it started itself; run the service here and give its loopback address`;
  }
  if (url.username || url.password || (url.pathname !== '/' && url.pathname !== '') || url.search || url.hash) {
    return `'${text}' says more than where the service listens; give only ${protocol}://${url.host} (paths and credentials belong to the workload)`;
  }
  return { protocol, host, port: url.port === '' ? defaultPort : Number(url.port) };
}

const options = z
  .strictObject({
    url: z.string({ error: 'give the url the service listens at, e.g. http://127.0.0.1:8080' }).check((ctx) => {
      const at = ctx.value === '' ? 'the url is empty; give the one the service listens at, e.g. http://127.0.0.1:8080' : parseExternalUrl(ctx.value);
      if (typeof at === 'string') ctx.issues.push({ code: 'custom', input: ctx.value, message: at });
    }),
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and -').optional(),
    health: z.string().regex(/^\/\S*$/, "a path that starts with /, e.g. '/health'").optional(),
  })
  .check((ctx) => {
    const at = parseExternalUrl(ctx.value.url);
    if (ctx.value.health !== undefined && typeof at !== 'string' && at.protocol !== 'http') {
      ctx.issues.push({ code: 'custom', input: ctx.value, path: ['health'], message: `health is a path checked over http, but the url speaks ${at.protocol}; leave it out (a TCP connect is checked)` });
    }
  });

/** The external service as a spec the runtime does not start: only its readiness is checked, at its own address. */
export function externalSpec(o: ExternalOptions, name = o.name ?? 'app'): ServiceSpec {
  const at = parseExternalUrl(o.url);
  if (typeof at === 'string') throw new FaultlineError('invalid-scenario', `external service '${name}': ${at}`);
  const { protocol, host, port } = at;
  return {
    name,
    target: 'external',
    ports: [protocol],
    protocols: { [protocol]: protocol },
    external: { [protocol]: { host, port } },
    local: () => {
      throw new FaultlineError('internal', `external service '${name}' is not started by faultline, yet a runtime asked for its command`);
    },
    ready: o.health !== undefined ? Wait.forHttp(o.health, { timeoutMs: READY_TIMEOUT_MS }) : Wait.forTcp(undefined, READY_TIMEOUT_MS),
    program: { name: 'external', version: async () => o.url },
  };
}

export const externalTarget: TargetDefinition<ExternalOptions> = {
  name: 'external',
  description: 'a service already running on this machine (loopback only); faultline only sends it load and puts faults on its link',
  options,
  topology: (o) => {
    const spec = externalSpec(o);
    return { services: [spec], entries: [entryAt(spec.ports[0]!, spec.name, spec.ports[0]!)] };
  },
};

/**
 * A design of a service the user runs, e.g. `external({ url: 'http://127.0.0.1:8080', health: '/health' })`.
 * faultline does not start or stop it: a fault on its link `client->app` works, process faults
 * (kill, pause, restart, clock) are refused, and it must answer before the design starts. The
 * url's host must be loopback: faultline drives load only at this machine or at what it started.
 */
export function external(options: ExternalOptions) {
  return { target: 'external', options } as const;
}
