import { describe, expect, it } from 'vitest';
import { recipeService, withClient } from '../../../targets/index.ts';
import { validateScenario } from '../../scenario/validate-scenario.ts';
import { buildRegistry } from '../../sla/metric-registry.ts';
import { parseSla } from '../../sla/sla-grammar.ts';
import { Channel } from './rpc-grpc-adapter.ts';
import { httpRequestOf } from './rpc-http-adapter.ts';
import { rpcDriver } from './rpc-driver.ts';
import { CallPicker, grpcErrorKind } from './rpc-load.ts';
import { normalizeCalls, rpc, rpcWorkloadSchema } from './rpc-workload.ts';
import { weightedCycle } from '../weighted-cycle.ts';

const getRecipe = { method: 'GetRecipe', args: { id: 7, size: 2048 } } as const;
const scenario = (designs: object, workload: object = rpc({ model: 'open', rate: 100, calls: [getRecipe] })) => ({ name: 'r', description: 'rpc', designs, workload, duration: '5s' });

function problems(s: object): string[] {
  const r = validateScenario(s);
  return r.ok ? [] : r.problems.map((p) => `${p.path}: ${p.message}`);
}

describe('rpc workload', () => {
  it('fills each call’s name, weight and arguments', () => {
    const w = rpcWorkloadSchema.parse(rpc({ model: 'closed', connections: 4, calls: [getRecipe, { method: 'Work', args: { ms: 2 }, weight: 3 }, { name: 'list', method: 'ListRecipes', args: { count: 10 } }] }));
    expect(normalizeCalls(w)).toEqual([
      { name: 'GetRecipe', weight: 1, method: 'GetRecipe', args: { id: 7, size: 2048 } },
      { name: 'Work', weight: 3, method: 'Work', args: { ms: 2, mode: 'cpu' } },
      { name: 'list', weight: 1, method: 'ListRecipes', args: { count: 10, size: 0, intervalMs: 0 } },
    ]);
  });

  it('makes the JSON/HTTP request of each method', () => {
    const [get, work, list] = normalizeCalls({ calls: [getRecipe, { method: 'Work', args: { ms: 5, mode: 'wait' } }, { method: 'ListRecipes', args: { count: 3, intervalMs: 10 } }] });
    expect(httpRequestOf(get!)).toMatchObject({ method: 'GET', path: '/recipes/7?size=2048', stream: false });
    expect(httpRequestOf(work!)).toMatchObject({ method: 'POST', path: '/work', body: '{"ms":5,"mode":"wait"}', stream: false });
    expect(httpRequestOf(list!)).toMatchObject({ method: 'GET', path: '/recipes?count=3&size=0&intervalMs=10', stream: true });
  });

  it('names the field and what to do for bad calls', () => {
    const d = { d: recipeService({ protocol: 'http' }) };
    expect(problems(scenario(d, rpc({ model: 'open', rate: 10, calls: [getRecipe, getRecipe] })))).toEqual([
      "workload.calls[1].name: calls 0 and 1 are both named 'GetRecipe': give each call of the same method its own name",
    ]);
    expect(problems(scenario(d, { kind: 'rpc', model: 'open', rate: 10, calls: [{ method: 'Delete', args: {} }] }))).toEqual([
      "workload.calls[0].method: unknown method \"Delete\"; give one of 'GetRecipe', 'Work', 'ListRecipes'",
    ]);
    const tooBig = problems(scenario(d, rpc({ model: 'open', rate: 10, calls: [{ method: 'GetRecipe', args: { id: 1, size: 2_000_000 } }] })));
    expect(tooBig).toHaveLength(1);
    expect(tooBig[0]).toMatch(/^workload\.calls\[0\]\.args\.size: /);
    expect(problems(scenario(d, rpc({ model: 'open', rate: 10, deadline: '0ms', calls: [getRecipe] })))).toEqual(['workload.deadline: give at least 1ms']);
  });

  it('speaks HTTP or gRPC to a recipe service as the design says, with gRPC client options for gRPC only', () => {
    expect(problems(scenario({ http: recipeService({ protocol: 'http' }), grpc: withClient(recipeService({ protocol: 'grpc' }), { channels: 4, maxConcurrentCalls: 100, keepAliveMs: 10_000, compression: 'gzip' }) }))).toEqual([]);
    expect(problems(scenario({ both: { ...recipeService({ protocol: 'both' }), protocol: 'grpc' } }))).toEqual([]);
    expect(problems(scenario({ h: { ...recipeService({ protocol: 'http' }), protocol: 'grpc' } }))).toEqual(["designs.h.protocol: design 'h' (target recipe-service) does not speak 'grpc'; it speaks 'http'"]);
    const bad = problems(scenario({ g: withClient(recipeService({ protocol: 'grpc' }), { channels: 0, streams: 3 }) }));
    expect(bad.join('\n')).toMatch(/designs\.g\.client/);
    expect(bad.join('\n')).toMatch(/channels/);
    expect(bad.join('\n')).toMatch(/streams/);
  });

  it('names gRPC statuses as error kinds an SLA line may count', () => {
    expect([grpcErrorKind(14), grpcErrorKind(4), grpcErrorKind(8), grpcErrorKind(99)]).toEqual(['grpc_unavailable', 'grpc_deadline_exceeded', 'grpc_resource_exhausted', 'grpc_99']);
    const registry = buildRegistry(rpcDriver);
    expect(() => parseSla('count(grpc_unavailable) == 0', registry)).not.toThrow();
    expect(() => parseSla('rate(grpc_deadline_exceeded) < 1%', registry)).not.toThrow();
    expect(() => parseSla('first_item p99 < 50ms', registry)).not.toThrow();
    expect(() => parseSla('count(grpc_slow) == 0', registry)).toThrow(/unknown error kind/);
  });
});

describe('the fixed call order', () => {
  it('interleaves calls by weight, the same every time', () => {
    const [a, b] = [{ n: 'A', weight: 3 }, { n: 'B', weight: 1 }];
    expect(weightedCycle([a, b]).map((x) => x.n).join('')).toBe('AABA');
    expect(weightedCycle([{ n: 'A', weight: 2 }, { n: 'B', weight: 2 }, { n: 'C', weight: 1 }]).map((x) => x.n).join('')).toBe('ABCAB');
  });

  it('sends each kind of call to every target in turn', () => {
    const calls = normalizeCalls({ calls: [getRecipe, { method: 'Work', args: { ms: 1 } }] });
    const picker = new CallPicker(calls, () => ['one', 'two']);
    const taken = Array.from({ length: 8 }, (_, k) => picker.take(k)).map((t) => `${calls[t.index]!.name}@${t.target}`);
    expect(taken).toEqual(['GetRecipe@one', 'Work@one', 'GetRecipe@two', 'Work@two', 'GetRecipe@one', 'Work@one', 'GetRecipe@two', 'Work@two']);
  });
});

describe('a channel with a call limit', () => {
  it('starts calls up to its limit and each queued one when a call ends, in order', () => {
    const ch = new Channel('client', 2);
    const started: number[] = [];
    for (let i = 0; i < 5; i++) ch.submit({ start: () => started.push(i) });
    expect(started).toEqual([0, 1]);
    ch.release();
    expect(started).toEqual([0, 1, 2]);
    expect(ch.active).toBe(2);
    ch.release();
    ch.release();
    expect(started).toEqual([0, 1, 2, 3, 4]);
    ch.release();
    ch.release();
    expect(ch.active).toBe(0);
  });
});
