import { z } from 'zod';
import { entryAt, type ServiceSpec, type Topology } from '../harness/runtime/service-spec.ts';
import { httpServiceSpec } from './http-service/http-service.ts';
import { commandOptionsSchema, commandSpec, type CommandOptions } from './command/command.ts';
import { recipeServiceSpec } from './recipe-service/recipe-service.ts';

/** Options every load-balancer target shares: its backends. */
export interface BackendOptions {
  /** Number of http-service backends, named `backend-1` … `backend-N`. Default 3. */
  backends?: number;
  /** Relative weight of each backend, in order (default all 1). Its length must equal `backends`. */
  weights?: number[];
  /**
   * The user's own service as every backend instead of the reference http-service, e.g.
   * `backend: command({ run: 'node server.js', ready: { http: '/health' } })`. Each backend runs
   * the command on a port of its own (told in its `port` variable; a fixed port is refused)
   * under the name `backend-i`. Health checks ask its `ready.http` path, else connect over TCP.
   */
  backend?: { target: 'command'; options: CommandOptions };
  /**
   * The reference service every backend runs: `http-service` (default; the balancer speaks
   * HTTP/1.1) or `recipe-service` speaking gRPC only (the balancer then takes gRPC on its port
   * `grpc`, the design's entry protocol `grpc`). Each backend answers with its own name in
   * `x-served-by`. Health checks connect over TCP.
   */
  backendTarget?: 'http-service' | 'recipe-service';
}

export const backendOptionsShape = {
  backends: z.number().int().min(1).max(32).optional(),
  weights: z.array(z.number().int().min(0).max(256)).optional(),
  backend: z
    .strictObject({
      target: z.literal('command', { error: "a backend is the user's service: backend: command({ run: '...' })" }),
      options: commandOptionsSchema.check((ctx) => {
        const issue = (path: string, message: string) => ctx.issues.push({ code: 'custom', input: ctx.value, path: [path], message });
        if (typeof ctx.value.port === 'number') issue('port', 'every backend needs a port of its own: give the environment variable that tells it its port (e.g. PORT), not a number');
        if (ctx.value.name !== undefined) issue('name', 'backends are named backend-1 … backend-N; leave name out');
        if ((ctx.value.protocol ?? 'http') !== 'http') issue('protocol', 'a load balancer speaks http to its backends');
      }),
    })
    .optional(),
  backendTarget: z.enum(['http-service', 'recipe-service']).optional(),
};

/** Whether the balancer carries gRPC (its backends are recipe services). */
export function grpcBackends(o: BackendOptions): boolean {
  return o.backendTarget === 'recipe-service';
}

/** The balancer's port and the protocol the load speaks there: `grpc` in front of gRPC backends, else `http`. */
export function balancerPort(o: BackendOptions): 'http' | 'grpc' {
  return grpcBackends(o) ? 'grpc' : 'http';
}

/** The path a balancer's active health check asks its backends for; undefined: a TCP connect. */
export function backendHealthPath(o: BackendOptions): string | undefined {
  if (grpcBackends(o)) return undefined;
  return o.backend ? o.backend.options.ready?.http : '/health';
}

/** The weights problem, if any: when given, there is one weight per backend. */
export function weightsProblem(o: BackendOptions): string | undefined {
  const n = o.backends ?? 3;
  return o.weights && o.weights.length !== n ? `give one weight per backend (${n}), got ${o.weights.length}` : undefined;
}

/** The problem with `backend` and `backendTarget` together, if any: one says what the backends run. */
export function backendTargetProblem(o: BackendOptions): string | undefined {
  return o.backend && o.backendTarget !== undefined ? "give either backend (your own service) or backendTarget (a reference service), not both" : undefined;
}

function backendSpec(o: BackendOptions, name: string): ServiceSpec {
  if (o.backend) return commandSpec(o.backend.options, name);
  return grpcBackends(o) ? recipeServiceSpec(name, { protocol: 'grpc' }) : httpServiceSpec(name, { servedBy: 'name' });
}

/** One backend as the load balancer's config sees it: its name, the address of its link, its weight. */
export interface BackendAddress {
  name: string;
  host: string;
  port: number;
  weight: number;
}

/**
 * A load-balancer topology: backends `backend-1..N` (http-service processes that answer with
 * their own name in `x-served-by`, or copies of the user's `backend` command), then the balancer `lb`, reaching backend i through the
 * link `lb->backend-i`, which is what a fault on one backend's connection names.
 */
export function loadBalancerTopology(o: BackendOptions, lb: (backends: (ctx: { links: Record<string, { host: string; port: number }> }) => BackendAddress[]) => ServiceSpec): Topology {
  const n = o.backends ?? 3;
  const names = Array.from({ length: n }, (_, i) => `backend-${i + 1}`);
  const backends = (ctx: { links: Record<string, { host: string; port: number }> }): BackendAddress[] =>
    names.map((name, i) => ({ name, ...ctx.links[`lb->${name}`]!, weight: o.weights?.[i] ?? 1 }));
  return {
    services: [...names.map((name) => backendSpec(o, name)), lb(backends)],
    links: names.map((name) => ({ name: `lb->${name}`, from: 'lb', to: name })),
    entries: [entryAt(balancerPort(o), 'lb', balancerPort(o))],
  };
}
