import { z } from 'zod';
import { Wait } from '../../harness/runtime/wait.ts';
import { entryAt, type ServiceSpec } from '../../harness/runtime/service-spec.ts';
import { nodeProgram, nodeService, type TargetDefinition } from '../target.ts';

export interface HttpServiceOptions {
  /** Service name inside the design; default `service`. */
  name?: string;
}

/** The server's source, under targets/. */
export const httpServiceServerFile = 'http-service/http-service-server.ts';

/**
 * The reference HTTP JSON service as one service spec (also used as a backend by other
 * targets). Endpoints: `/work?ms=N` burns N ms of CPU, `/io?ms=N` waits N ms, `/payload?kb=N`
 * returns N KiB, `/recipes/ID` a recipe document, `/health`. Every response carries
 * `x-served-by`: the process id, or with `servedBy: 'name'` the service's name (a backend's
 * name stays the same across restarts, so distribution counts add up per backend).
 */
export function httpServiceSpec(name = 'service', opts: { servedBy?: 'name' | 'pid' } = {}): ServiceSpec {
  return {
    name,
    target: 'http-service',
    ports: ['http'],
    protocols: { http: 'http' },
    ...nodeService([httpServiceServerFile], (ctx) => ({ HOST: ctx.host, PORT: String(ctx.ports.http), ...(opts.servedBy === 'name' ? { SERVED_BY: name } : {}) })),
    ready: Wait.forHttp('/health'),
    program: nodeProgram,
  };
}

export const httpServiceTarget: TargetDefinition<HttpServiceOptions> = {
  name: 'http-service',
  description: 'one Node.js HTTP JSON service process',
  options: z.strictObject({ name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and -').optional() }),
  topology: (o) => {
    const name = o.name ?? 'service';
    return { services: [httpServiceSpec(name)], entries: [entryAt('http', name, 'http')] };
  },
};

/** A design of one Node.js HTTP service process. */
export function httpService(options: HttpServiceOptions = {}) {
  return { target: 'http-service', options } as const;
}
