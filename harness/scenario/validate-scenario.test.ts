import { describe, expect, it } from 'vitest';
import { z } from 'zod';
import { http, httpService, messaging, nginx, nodeCluster, rabbitmq, withClient } from '../index.ts';
import { entryAt } from '../runtime/service-spec.ts';
import { httpServiceSpec } from '../../targets/http-service/http-service.ts';
import { registries, validateScenario } from './validate-scenario.ts';

const good = {
  name: 'demo',
  description: 'a demo',
  designs: { single: httpService(), 'cluster-2': nodeCluster({ workers: 2 }) },
  workload: http({ model: 'open', rate: 100, path: '/work?ms=1' }),
  duration: '5s',
  sla: ['p99 < 50ms'],
};

describe('validateScenario', () => {
  it('accepts a good scenario and parses its durations and SLA', () => {
    const r = validateScenario(good);
    expect(r.ok).toBe(true);
    if (r.ok) {
      expect(r.value.durationMs).toBe(5000);
      expect(r.value.warmupMs).toBe(2000);
      expect(r.value.sla[0]?.expr.threshold).toBe(50_000);
    }
  });

  it('reports every problem at once, each with its field path', () => {
    const r = validateScenario({
      ...good,
      name: 'Bad Name',
      duration: 'ten seconds',
      colour: 'red',
      designs: { single: { target: 'http-service', options: { name: 'x', port: 1 } }, big: nodeCluster({ workers: 0 }), weird: { target: 'apache' } },
      workload: { kind: 'http', model: 'open', rate: -5, path: 'no-slash', extra: 1 },
      sla: ['p99 < 50ms', 'p99 < 50', 'latency < 1s'],
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const paths = r.problems.map((p) => p.path);
    expect(paths).toEqual(expect.arrayContaining([
      'name', 'duration', 'colour',
      'designs.single.options.port', 'designs.big.options.workers', 'designs.weird.target',
      'workload.rate', 'workload.path', 'workload.extra',
      'sla[1]', 'sla[2]',
    ]));
    expect(r.problems.find((p) => p.path === 'designs.weird.target')?.message).toMatch(/unknown target 'apache'; valid targets: 'http-service', 'node-cluster'/);
    expect(r.problems.find((p) => p.path === 'colour')?.message).toMatch(/unknown field/);
    expect(r.problems.find((p) => p.path === 'duration')?.message).toMatch(/'3s'/);
    expect(r.problems.find((p) => p.path === 'sla[1]')?.message).toMatch(/time unit/);
  });

  it('names an unknown workload kind, a missing model, and a workload that names a protocol instead of a kind', () => {
    const r1 = validateScenario({ ...good, workload: { kind: 'smtp' } });
    expect(!r1.ok && r1.problems).toEqual([{ path: 'workload.kind', message: "unknown workload kind 'smtp'; valid kinds: 'http', 'messaging', 'ids', 'lock', 'rpc'" }]);
    const r2 = validateScenario({ ...good, workload: { kind: 'http', path: '/' } });
    expect(!r2.ok && r2.problems.map((p) => p.path)).toEqual(['workload.model']);
    const r3 = validateScenario({ ...good, workload: { protocol: 'http', model: 'open', rate: 1, path: '/' } });
    expect(!r3.ok && r3.problems.find((p) => p.path === 'workload.protocol')?.message).toMatch(/names its kind, not a protocol: write kind: 'http'/);
  });

  it('plans each design: the protocol its target speaks that the workload has an adapter for, and client options checked by that adapter', () => {
    const r = validateScenario({ ...good, designs: { single: withClient(httpService(), { pipelining: 4 }) } });
    expect(r.ok && r.value.plans.single).toEqual({ protocol: 'http', entry: entryAt('http', 'service', 'http'), client: { pipelining: 4 } });
    const bad = validateScenario({ ...good, designs: { single: withClient(httpService(), { pipelining: 0, channels: 2 }) } });
    expect(!bad.ok && bad.problems.map((p) => p.path).sort()).toEqual(['designs.single.client.channels', 'designs.single.client.pipelining']);
  });

  it('rejects a design that speaks nothing the workload supports, naming the design, its protocols and the workload\'s', () => {
    const grpcOnly = {
      name: 'grpc-only',
      description: 'speaks gRPC only',
      options: z.strictObject({}),
      topology: () => ({ services: [{ ...httpServiceSpec('svc'), protocols: { http: 'grpc' } }], entries: [entryAt('grpc', 'svc', 'http')] }),
    };
    const known = { ...registries, targets: { ...registries.targets, 'grpc-only': grpcOnly } };
    const r = validateScenario({ ...good, designs: { rpc: { target: 'grpc-only' } } }, known);
    expect(!r.ok && r.problems).toEqual([{ path: 'designs.rpc', message: "design 'rpc' (target grpc-only) speaks 'grpc', but the 'http' workload speaks 'http'; choose a target that speaks one of those, or another workload kind" }]);
    const asked = validateScenario({ ...good, designs: { single: { ...httpService(), protocol: 'grpc' } } });
    expect(!asked.ok && asked.problems).toEqual([{ path: 'designs.single.protocol', message: "design 'single' (target http-service) does not speak 'grpc'; it speaks 'http'" }]);
  });

  it('asks for exactly one of path or requests, and a single request for autocannon', () => {
    const r = validateScenario({ ...good, workload: { kind: 'http', model: 'closed', connections: 4, engine: 'autocannon', requests: [{ path: '/a' }, { path: '/b' }], path: '/c' } });
    expect(!r.ok && r.problems.map((p) => p.path).sort()).toEqual(['workload.engine', 'workload.path']);
  });

  it('refuses every duration longer than 24h, naming its field, and accepts 24h itself', () => {
    const r = validateScenario({
      ...good,
      duration: '100000h',
      warmup: '25h',
      workload: http({ model: 'open', rate: 100, path: '/work', timeout: '48h', stages: [{ duration: '1000h', target: 200 }] }),
      faults: [{ name: 'slow', at: '30h', for: '26h', link: 'client->service', latency: { latency: 10 } }],
      sla: [{ after: 'slow', check: 'p99 < 50ms', for: '100h' }, { after: 'slow', check: 'recovery < 3s', hold: '25h' }],
      designs: { single: httpService() },
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    const long = r.problems.filter((p) => /longer than 24h/.test(p.message)).map((p) => p.path).sort();
    expect(long).toEqual(['duration', 'faults[0].at', 'faults[0].for', 'sla[0].for', 'sla[1].hold', 'warmup', 'workload.stages[0].duration', 'workload.timeout']);
    expect(r.problems.find((p) => p.path === 'duration')?.message).toBe("'100000h' is longer than 24h, the longest duration faultline accepts");
    const edge = validateScenario({ ...good, duration: '24h', warmup: '24h', workload: http({ model: 'open', rate: 100, path: '/work', timeout: '24h' }) });
    expect(edge.ok && [edge.value.durationMs, edge.value.warmupMs]).toEqual([86_400_000, 86_400_000]);
  });

  it('holds every workload kind and target to the same bound: a drain timeout, a publish timeout, a proxy timeout', () => {
    const r = validateScenario({ ...good, designs: { q: rabbitmq() }, workload: messaging({ model: 'open', rate: 10, drainTimeout: '25h', publishTimeout: '48h', processingTime: '1h' }), sla: [] });
    expect(!r.ok && r.problems.map((p) => p.path)).toEqual(['workload.drainTimeout', 'workload.publishTimeout']);
    const lb = validateScenario({ ...good, designs: { lb: nginx({ readTimeout: '25h' }) } });
    expect(!lb.ok && lb.problems.map((p) => p.path)).toEqual(['designs.lb.options.readTimeout']);
  });

  it('refuses a header name that is not an RFC 7230 token and a value with CR, LF or NUL, naming the header', () => {
    const r = validateScenario({
      ...good,
      workload: http({ model: 'closed', connections: 1, requests: [
        { path: '/a', headers: { 'X-Ok': 'a\tb', 'X-Bad\nInjected': 'v', 'X Space': 'v', 'X:Colon': 'v', 'X-Split': 'a\r\nX-Evil: 1', 'X-Nul': 'a\0b' } },
        { path: '/b', headers: { Authorization: 'Bearer abc.def', 'X-Trace-Id': 'é-latin1' } },
      ] }),
    });
    expect(r.ok).toBe(false);
    if (r.ok) return;
    expect(r.problems.map((p) => p.path)).toEqual([
      'workload.requests[0].headers["X-Bad\\nInjected"]',
      'workload.requests[0].headers["X Space"]',
      'workload.requests[0].headers["X:Colon"]',
      'workload.requests[0].headers.X-Split',
      'workload.requests[0].headers.X-Nul',
    ]);
    expect(r.problems[0]!.message).toMatch(/^header name "X-Bad\\nInjected" is not an RFC 7230 token/);
    expect(r.problems[3]!.message).toMatch(/^header value "a\\r\\nX-Evil: 1" holds a CR, LF, NUL/);
    // The path stays on one line in the error output.
    for (const p of r.problems) expect(p.path).not.toMatch(/[\r\n\0]/);
  });

  it('refuses a request path with a space or a control character', () => {
    const r = validateScenario({ ...good, workload: http({ model: 'open', rate: 10, requests: [{ path: '/a b' }, { path: '/ok?q=%20' }, { path: '/x\r\nHost: evil' }] }) });
    expect(!r.ok && r.problems.map((p) => p.path)).toEqual(['workload.requests[0].path', 'workload.requests[2].path']);
    const single = validateScenario({ ...good, workload: http({ model: 'open', rate: 10, path: '/a\0' }) });
    expect(!single.ok && single.problems.map((p) => p.path)).toEqual(['workload.path']);
  });

  it('rejects a scenario that is not an object and one with no designs', () => {
    expect(validateScenario(42).ok).toBe(false);
    const r = validateScenario({ ...good, designs: {} });
    expect(!r.ok && r.problems.map((p) => p.path)).toEqual(['designs']);
  });
});
