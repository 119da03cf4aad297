import { z } from 'zod';
import { Wait } from '../../harness/runtime/wait.ts';
import { entryAt } from '../../harness/runtime/service-spec.ts';
import { httpServiceServerFile } from '../http-service/http-service.ts';
import { nodeProgram, nodeService, type TargetDefinition } from '../target.ts';

export interface NodeClusterOptions {
  /** Worker processes forked by the primary. Default 2. */
  workers?: number;
  /** `round-robin` (Node's default on Linux: the primary hands out connections) or `os` (the kernel picks). Default `round-robin`. */
  scheduling?: 'round-robin' | 'os';
  /** Fork a new worker when one dies. Default true. */
  respawn?: boolean;
}

export const nodeClusterTarget: TargetDefinition<NodeClusterOptions> = {
  name: 'node-cluster',
  description: 'the http-service under node:cluster: a primary forking N workers that share one port',
  options: z.strictObject({
    workers: z.number().int().min(1).max(64).optional(),
    scheduling: z.enum(['round-robin', 'os']).optional(),
    respawn: z.boolean().optional(),
  }),
  topology: (o) => {
    const workers = o.workers ?? 2;
    return {
      services: [{
        name: 'cluster',
        target: 'node-cluster',
        ports: ['http'],
        protocols: { http: 'http' },
        ...nodeService(['node-cluster/node-cluster-primary.ts', httpServiceServerFile], (ctx) => ({
          HOST: ctx.host,
          PORT: String(ctx.ports.http),
          WORKERS: String(workers),
          SCHEDULING: o.scheduling ?? 'round-robin',
          RESPAWN: String(o.respawn ?? true),
        })),
        ready: Wait.forAll([Wait.forLog(/listening on/, { times: workers }), Wait.forHttp('/health')]),
        program: nodeProgram,
      }],
      entries: [entryAt('http', 'cluster', 'http')],
    };
  },
};

/** A design of the http-service under node:cluster with `workers` processes. */
export function nodeCluster(options: NodeClusterOptions = {}) {
  return { target: 'node-cluster', options } as const;
}
