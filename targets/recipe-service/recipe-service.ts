import { z } from 'zod';
import { Wait, type WaitStrategy } from '../../harness/runtime/wait.ts';
import type { EntrySpec, ServiceSpec, Topology } from '../../harness/runtime/service-spec.ts';
import { nodeProgram, nodeService, type TargetDefinition } from '../target.ts';
import { grpcHealthProbe } from './grpc-health.ts';

export type RecipeProtocol = 'http' | 'grpc' | 'both';

export interface RecipeServiceOptions {
  /**
   * What the service speaks: `http` (JSON over HTTP/1.1), `grpc`, or `both` on two ports (named
   * `http` and `grpc`); a design of `both` speaks HTTP unless it names `protocol: 'grpc'`.
   */
  protocol: RecipeProtocol;
  /** Instances, each its own process (`<name>-1` … `<name>-N`), addressed directly by the load. Default 1. */
  instances?: number;
  /**
   * `gzip`: JSON/HTTP answers are gzipped for clients that accept it (the rpc workload's HTTP
   * adapter does). grpc-js servers send gRPC answers uncompressed whatever they are told, so
   * over gRPC only requests are compressed: give the design the client option `compression`.
   * Default `none`.
   */
  compression?: 'none' | 'gzip';
  /** Service name inside the design (the instances' prefix); default `service`. */
  name?: string;
}

const MAX_INSTANCES = 16;

/** The server's source and what it reads, under targets/. */
const serverFiles = ['recipe-service/recipe-service-server.ts', 'recipe-service/recipes.ts', 'recipe-service/recipe.proto', 'recipe-service/health.proto'];

/** What the server needs from node_modules inside a container when it speaks gRPC. */
const grpcPackages = ['@grpc/grpc-js', '@grpc/proto-loader'];

export const recipeServiceOptions = z
  .strictObject({
    protocol: z.enum(['http', 'grpc', 'both']),
    instances: z.number().int().min(1).max(MAX_INSTANCES).optional(),
    compression: z.enum(['none', 'gzip']).optional(),
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and -').optional(),
  })
  .check((ctx) => {
    const o = ctx.value;
    if (o.protocol === 'grpc' && o.compression === 'gzip') {
      ctx.issues.push({
        code: 'custom',
        input: o,
        path: ['compression'],
        message: "grpc-js servers send gRPC answers uncompressed, so compression 'gzip' would change nothing here: remove it, and compress requests with the design's client option instead (withClient(design, { compression: 'gzip' }))",
      });
    }
  }) satisfies z.ZodType<RecipeServiceOptions>;

/** The protocols a service of these options speaks, in the order a design prefers them. */
function protocolsOf(protocol: RecipeProtocol): ('http' | 'grpc')[] {
  return protocol === 'both' ? ['http', 'grpc'] : [protocol];
}

/** Instance names of a design: the name alone, or `<name>-1` … `<name>-N`. */
export function recipeInstanceNames(o: Pick<RecipeServiceOptions, 'instances' | 'name'>): string[] {
  const name = o.name ?? 'service';
  const n = o.instances ?? 1;
  return n === 1 ? [name] : Array.from({ length: n }, (_, k) => `${name}-${k + 1}`);
}

/** One recipe service process as a service spec (also usable as a backend by other targets). */
export function recipeServiceSpec(name: string, o: Pick<RecipeServiceOptions, 'protocol' | 'compression'>): ServiceSpec {
  const protocols = protocolsOf(o.protocol);
  const ready: WaitStrategy[] = protocols.map((p) => (p === 'http' ? Wait.forHttp('/health', { port: 'http' }) : Wait.forProbe('gRPC health check SERVING', grpcHealthProbe, { port: 'grpc' })));
  return {
    name,
    target: 'recipe-service',
    ports: protocols,
    protocols: Object.fromEntries(protocols.map((p) => [p, p])),
    ...nodeService(
      serverFiles,
      (ctx) => ({
        HOST: ctx.host,
        NAME: name,
        COMPRESSION: o.compression ?? 'none',
        ...(ctx.ports.http !== undefined ? { HTTP_PORT: String(ctx.ports.http) } : {}),
        ...(ctx.ports.grpc !== undefined ? { GRPC_PORT: String(ctx.ports.grpc) } : {}),
      }),
      protocols.includes('grpc') ? { packages: grpcPackages } : {},
    ),
    ready: ready.length === 1 ? ready[0]! : Wait.forAll(ready),
    program: nodeProgram,
  };
}

export const recipeServiceTarget: TargetDefinition<RecipeServiceOptions> = {
  name: 'recipe-service',
  description: 'a Node recipe service speaking JSON/HTTP, gRPC or both (unary, CPU or waiting work, server streaming), N instances addressed directly',
  options: recipeServiceOptions,
  topology: (o): Topology => {
    const names = recipeInstanceNames(o);
    const entries: EntrySpec[] = protocolsOf(o.protocol).map((protocol) => ({ protocol, endpoints: names.map((service) => ({ service, port: protocol })) }));
    return { services: names.map((n) => recipeServiceSpec(n, o)), entries };
  },
};

/**
 * A design of recipe service instances, e.g. `recipeService({ protocol: 'grpc' })`; with
 * `protocol: 'both'` pick the one the load speaks with the design's `protocol`:
 * `{ ...recipeService({ protocol: 'both' }), protocol: 'grpc' }`.
 */
export function recipeService(options: RecipeServiceOptions) {
  return { target: 'recipe-service', options } as const;
}
