import { describe, expect, it } from 'vitest';
import type { ContainerContext } from '../../harness/runtime/service-spec.ts';
import { MAX_SIZE, recipe } from './recipes.ts';
import { recipeServiceOptions, recipeServiceTarget, type RecipeServiceOptions } from './recipe-service.ts';

const topology = (o: RecipeServiceOptions) => recipeServiceTarget.topology(recipeServiceOptions.parse(o));
const ctx: ContainerContext = { dir: '/srv', host: '0.0.0.0', ports: { http: 8080, grpc: 50051 }, links: {}, advertised: {} };

describe('recipe-service target', () => {
  it('serves each protocol on its own named port, and lists the entries HTTP first', () => {
    const t = topology({ protocol: 'both', instances: 2, name: 'recipes' });
    expect(t.services.map((s) => [s.name, s.ports])).toEqual([['recipes-1', ['http', 'grpc']], ['recipes-2', ['http', 'grpc']]]);
    expect(t.entries).toEqual([
      { protocol: 'http', endpoints: [{ service: 'recipes-1', port: 'http' }, { service: 'recipes-2', port: 'http' }] },
      { protocol: 'grpc', endpoints: [{ service: 'recipes-1', port: 'grpc' }, { service: 'recipes-2', port: 'grpc' }] },
    ]);
    const grpcOnly = topology({ protocol: 'grpc' });
    expect(grpcOnly.services.map((s) => [s.name, s.ports, s.protocols])).toEqual([['service', ['grpc'], { grpc: 'grpc' }]]);
    expect(grpcOnly.services[0]!.ready.describe()).toBe('gRPC health check SERVING to port grpc');
    expect(grpcOnly.services[0]!.local({ ...ctx, ports: { grpc: 50051 } }).env).toEqual({ HOST: '0.0.0.0', NAME: 'service', COMPRESSION: 'none', GRPC_PORT: '50051' });
  });

  it('refuses gzip for a gRPC-only service, whose answers grpc-js never compresses, and says what to do', () => {
    const r = recipeServiceOptions.safeParse({ protocol: 'grpc', compression: 'gzip' });
    expect(r.success).toBe(false);
    expect(r.error!.issues[0]!.message).toMatch(/compress requests with the design's client option/);
    expect(recipeServiceOptions.safeParse({ protocol: 'both', compression: 'gzip' }).success).toBe(true);
    expect(recipeServiceOptions.safeParse({ protocol: 'http', instances: 17 }).success).toBe(false);
  });

  it('copies the gRPC packages and what they depend on into a container, and nothing for HTTP alone', () => {
    const copy = (o: RecipeServiceOptions) => Object.keys(topology(o).services[0]!.container!(ctx).copy ?? {});
    const grpc = copy({ protocol: 'grpc' });
    for (const file of ['/srv/targets/recipe-service/recipe-service-server.ts', '/srv/targets/recipe-service/recipe.proto', '/srv/node_modules/@grpc/grpc-js/package.json', '/srv/node_modules/@grpc/proto-loader/package.json', '/srv/node_modules/protobufjs/package.json', '/srv/node_modules/long/package.json']) {
      expect(grpc, file).toContain(file);
    }
    // Run time only: no type declarations, source maps or type-only packages.
    expect(grpc.filter((f) => /\.d\.ts$|\.map$|\/@types\//.test(f))).toEqual([]);
    expect(copy({ protocol: 'http' }).filter((f) => f.includes('node_modules'))).toEqual([]);
  });
});

describe('recipe documents', () => {
  it('are padded to exactly the size asked for, and the same for the same id', () => {
    for (const size of [0, 600, 4096, MAX_SIZE]) {
      const text = JSON.stringify(recipe(12, size));
      expect(text.length, String(size)).toBe(Math.max(size, JSON.stringify(recipe(12)).length));
    }
    expect(recipe(5, 1000)).toEqual(recipe(5, 1000));
    expect(recipe(5).notes).toBe('');
  });
});
