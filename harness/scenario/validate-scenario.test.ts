import { describe, expect, it } from 'vitest';
import { http, httpService, nodeCluster } from '../index.ts';
import { validateScenario } from './validate-scenario.ts';

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
      workload: { protocol: 'http', model: 'open', rate: -5, path: 'no-slash', extra: 1 },
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

  it('names an unknown protocol and a missing model', () => {
    const r1 = validateScenario({ ...good, workload: { protocol: 'smtp' } });
    expect(!r1.ok && r1.problems).toEqual([{ path: 'workload.protocol', message: "unknown protocol 'smtp'; valid protocols: 'http'" }]);
    const r2 = validateScenario({ ...good, workload: { protocol: 'http', path: '/' } });
    expect(!r2.ok && r2.problems.map((p) => p.path)).toEqual(['workload.model']);
  });

  it('asks for exactly one of path or requests, and a single request for autocannon', () => {
    const r = validateScenario({ ...good, workload: { protocol: 'http', model: 'closed', connections: 4, engine: 'autocannon', requests: [{ path: '/a' }, { path: '/b' }], path: '/c' } });
    expect(!r.ok && r.problems.map((p) => p.path).sort()).toEqual(['workload.engine', 'workload.path']);
  });

  it('rejects a scenario that is not an object and one with no designs', () => {
    expect(validateScenario(42).ok).toBe(false);
    const r = validateScenario({ ...good, designs: {} });
    expect(!r.ok && r.problems.map((p) => p.path)).toEqual(['designs']);
  });
});
