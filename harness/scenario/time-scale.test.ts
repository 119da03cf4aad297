import { describe, expect, it } from 'vitest';
import { http, httpService } from '../index.ts';
import { scaleTimeline } from './time-scale.ts';
import { validateScenario } from './validate-scenario.ts';

describe('scaleTimeline', () => {
  it('scales the window, the faults and the workload\'s ramp stages alike, and leaves thresholds and rates as written', () => {
    const r = validateScenario({
      name: 's',
      description: 'scaled',
      designs: { one: httpService() },
      workload: http({ model: 'open', rate: 100, path: '/health', stages: [{ duration: '20s', target: 100 }, { duration: '4s', target: 400 }] }),
      warmup: '2s',
      duration: '40s',
      faults: [{ name: 'f', at: '22s', for: '2s', link: 'client->service', latency: { latency: 50 } }],
      sla: [{ after: 'f', check: 'recovery < 3s', until: ['p99 < 100ms'] }],
    });
    expect(r.ok).toBe(true);
    if (!r.ok) return;
    const scaled = scaleTimeline({ ...r.value, file: 's.ts' }, 0.5);
    expect([scaled.warmupMs, scaled.durationMs]).toEqual([1000, 20000]);
    expect(scaled.faults.map((f) => [f.at, f.for])).toEqual([['11000ms', '1000ms']]);
    // The overload still comes just before the fault: 10 s, then a 2 s ramp.
    expect((scaled.scenario.workload as { stages: unknown }).stages).toEqual([{ duration: '10000ms', target: 100 }, { duration: '2000ms', target: 400 }]);
    expect((scaled.scenario.workload as { rate: number }).rate).toBe(100);
    expect(scaled.sla[0]?.display).toBe('after f: recovery < 3s');
  });
});
