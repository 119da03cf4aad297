import { z } from 'zod';
import { entryAt, type ServiceSpec, type Topology } from '../harness/runtime/service-spec.ts';
import { httpServiceSpec } from './http-service/http-service.ts';

/** Options every load-balancer target shares: its backends. */
export interface BackendOptions {
  /** Number of http-service backends, named `backend-1` … `backend-N`. Default 3. */
  backends?: number;
  /** Relative weight of each backend, in order (default all 1). Its length must equal `backends`. */
  weights?: number[];
}

export const backendOptionsShape = {
  backends: z.number().int().min(1).max(32).optional(),
  weights: z.array(z.number().int().min(0).max(256)).optional(),
};

/** The weights problem, if any: when given, there is one weight per backend. */
export function weightsProblem(o: BackendOptions): string | undefined {
  const n = o.backends ?? 3;
  return o.weights && o.weights.length !== n ? `give one weight per backend (${n}), got ${o.weights.length}` : undefined;
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
 * their own name in `x-served-by`), then the balancer `lb`, reaching backend i through the
 * link `lb->backend-i`, which is what a fault on one backend's connection names.
 */
export function loadBalancerTopology(o: BackendOptions, lb: (backends: (ctx: { links: Record<string, { host: string; port: number }> }) => BackendAddress[]) => ServiceSpec): Topology {
  const n = o.backends ?? 3;
  const names = Array.from({ length: n }, (_, i) => `backend-${i + 1}`);
  const backends = (ctx: { links: Record<string, { host: string; port: number }> }): BackendAddress[] =>
    names.map((name, i) => ({ name, ...ctx.links[`lb->${name}`]!, weight: o.weights?.[i] ?? 1 }));
  return {
    services: [...names.map((name) => httpServiceSpec(name, { servedBy: 'name' })), lb(backends)],
    links: names.map((name) => ({ name: `lb->${name}`, from: 'lb', to: name })),
    entries: [entryAt('http', 'lb', 'http')],
  };
}
