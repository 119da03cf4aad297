import { describe, expect, it } from 'vitest';
import type { DesignResult, SlaVerdict } from '../result/result.ts';
import { beyondNoise, clearOf, summarizeTrials, trialFigure } from './trials.ts';

/** A completed trial of `name` with p99 `p99Us`, ok/s `throughput` and one SLA line `p99 < 50ms`. */
function trial(name: string, trialNo: number, p99Us: number, throughput: number): DesignResult {
  const verdict: SlaVerdict = { line: 'p99 < 50ms', pass: p99Us < 50_000, measured: p99Us, op: '<', threshold: 50_000, unit: 'latency', measuredText: `${p99Us}µs` };
  return {
    name, target: 'http-service', status: 'completed', trial: trialNo, services: [],
    load: { model: 'open', connections: 1, sent: 100, dropped: 0, late: 0, lateThresholdMs: 10, maxDispatchLagMs: 0, lateResponses: 0 },
    totals: { ops: 100, ok: 100, errors: 0, errorsByKind: {}, throughput, latencyUs: { min: 1, mean: 1, p50: 1, p90: 1, p99: p99Us, p999: p99Us, max: p99Us }, histogram: '' },
    byOperation: {}, distributions: {}, counters: {}, tallies: {}, gauges: {}, series: [], checks: {}, links: [], faults: [],
    sla: [verdict], passed: verdict.pass,
  };
}

describe('trialFigure', () => {
  it('gives the median and a 95% t interval of the mean', () => {
    // Mean 10, sample sd 1, n 3: half-width t(2) × 1 / √3 = 4.303 / 1.732 = 2.484.
    const f = trialFigure([9, 11, 10]);
    expect(f.median).toBe(10);
    expect(f.values).toEqual([9, 11, 10]);
    expect(f.low).toBeCloseTo(7.516, 3);
    expect(f.high).toBeCloseTo(12.484, 3);
    expect(trialFigure([1, 2, 3, 4]).median).toBe(2.5);
  });

  it('is the value itself for one trial, and refuses none', () => {
    expect(trialFigure([5])).toEqual({ values: [5], median: 5, low: 5, high: 5 });
    expect(() => trialFigure([])).toThrow(/at least one value/);
  });
});

describe('noise', () => {
  it('calls a difference beyond the noise only when the intervals do not overlap', () => {
    const a = trialFigure([9, 10, 11]);
    expect(beyondNoise(a, trialFigure([20, 21, 22]))).toBe(true);
    expect(beyondNoise(a, trialFigure([11, 12, 13]))).toBe(false);
  });

  it('calls a threshold clear when the whole interval is on one side', () => {
    const a = trialFigure([9, 10, 11]);
    expect(clearOf(a, 20)).toBe(true);
    expect(clearOf(a, 11)).toBe(false);
  });
});

describe('summarizeTrials', () => {
  const trials = [trial('a', 1, 10_000, 100), trial('b', 1, 40_000, 90), trial('a', 2, 12_000, 102), trial('b', 2, 60_000, 88), trial('a', 3, 11_000, 98), trial('b', 3, 45_000, 91)];

  it('stands the median trial (by p99) for each design, with every figure over all trials', () => {
    const [a, b] = summarizeTrials(trials, ['a', 'b']);
    expect(a!.trial).toBe(3);
    expect(a!.repeat!.trials).toBe(3);
    expect(a!.repeat!.figures.p99!.values).toEqual([10_000, 12_000, 11_000]);
    expect(a!.repeat!.figures.throughput!.median).toBe(100);
    expect(beyondNoise(a!.repeat!.figures.p99!, b!.repeat!.figures.p99!)).toBe(true);
    expect(b!.trial).toBe(3);
  });

  it('passes a design only when every trial passed, and says how many passed each line and whether it is clear of the noise', () => {
    const [a, b] = summarizeTrials(trials, ['a', 'b']);
    expect(a!.passed).toBe(true);
    expect(a!.sla[0]!.trials).toMatchObject({ passed: 3, of: 3, clear: true });
    expect(b!.passed).toBe(false);
    expect(b!.repeat!.passedTrials).toBe(2);
    expect(b!.sla[0]!.trials).toMatchObject({ passed: 2, of: 3, clear: false });
  });
});
