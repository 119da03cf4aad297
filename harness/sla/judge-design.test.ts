import { describe, expect, it } from 'vitest';
import { activeBetween } from '../faults/fault-timeline.ts';
import { Recorder } from '../metrics/recorder.ts';
import type { FaultRecord, SecondStats } from '../result/result.ts';
import { judge, recoveryUs, scopeSeconds } from './judge-design.ts';
import { parseSla } from './sla-grammar.ts';

/**
 * Ten seconds at 100 responses a second: 2 ms normally, 300 ms in seconds 4–5, errors in
 * second 6; backends b1 and b2 share the responses except in seconds 4–5 (all b2).
 */
function design() {
  const r = new Recorder(0);
  for (let s = 0; s < 10; s++) {
    for (let i = 0; i < 100; i++) r.recordResponse('op', s === 4 || s === 5 ? 300_000 : 2000, undefined, s === 4 || s === 5 || i % 2 ? 'b2' : 'b1');
    if (s === 6) for (let i = 0; i < 20; i++) r.recordFailure('op', 'refused');
    r.tick((s + 1) * 1000);
  }
  r.closeWindow(10_000);
  const { totals } = r.finish();
  return { totals, series: r.series as SecondStats[], servedBy: r.finish().servedBy };
}

const slow: FaultRecord = { name: 'slow', kind: 'latency', link: 'client->service', settings: {}, atMs: 4000, forMs: 2000, appliedAtMs: 4003, removedAtMs: 6004 };

describe('scopeSeconds', () => {
  it('covers whole seconds before, during and after a fault', () => {
    expect(scopeSeconds({ kind: 'before', fault: 'slow' }, slow, 10_000)).toEqual({ from: 0, to: 4 });
    expect(scopeSeconds({ kind: 'during', fault: 'slow' }, slow, 10_000)).toEqual({ from: 4, to: 8 });
    expect(scopeSeconds({ kind: 'after', fault: 'slow' }, slow, 10_000)).toEqual({ from: 7, to: 10 });
    expect(scopeSeconds({ kind: 'after', fault: 'slow', forMs: 1000 }, slow, 10_000)).toEqual({ from: 7, to: 8 });
  });
});

describe('recoveryUs', () => {
  const { series } = design();
  it('is the time from the fault end to the first second that holds and keeps holding', () => {
    // Seconds 4–5 are slow and second 6 has errors: with both thresholds, second 7 is the first good one.
    expect(recoveryUs(series, 6004, [parseSla('p99 < 100ms'), parseSla('errors < 1%')])).toBe(996_000);
    // Judged on latency only, second 6 already holds.
    expect(recoveryUs(series, 6004, [parseSla('p99 < 100ms')])).toBe(0);
    expect(recoveryUs(series, 4100, [parseSla('p99 < 100ms')])).toBe(1_900_000);
  });

  it('is null (never) when the thresholds never hold again', () => {
    expect(recoveryUs(series, 2000, [parseSla('p99 < 1ms')])).toBeNull();
  });
});

describe('judge', () => {
  const { totals, series, servedBy } = design();
  const figures = { totals, load: { dropped: 0, late: 0 }, series, faults: [slow], windowMs: 10_000, servedBy, keys: { keys: 10, byFault: { slow: { during: 0.5, after: 0 } } } };
  const rule = (check: string, scope?: { kind: 'before' | 'during' | 'after'; fault: string }, until?: string[]) => ({
    expr: parseSla(check),
    display: scope ? `${scope.kind} ${scope.fault}: ${check}` : check,
    ...(scope ? { scope } : {}),
    ...(until ? { until: until.map(parseSla) } : {}),
  });

  it('judges whole-run and scoped lines on merged histograms of their seconds', () => {
    expect(judge(rule('p99 < 100ms'), figures).pass).toBe(false);
    const before = judge(rule('p99 < 10ms', { kind: 'before', fault: 'slow' }), figures);
    expect(before).toMatchObject({ pass: true, measuredText: '2ms', window: { scope: 'before', fromMs: 0, toMs: 4000 } });
    // Seconds 4–7: two slow, two fast.
    const during = judge(rule('p75 >= 250ms', { kind: 'during', fault: 'slow' }), figures);
    expect(during).toMatchObject({ pass: true, window: { fromMs: 4000, toMs: 8000 } });
    const recovery = judge(rule('recovery < 2s', { kind: 'after', fault: 'slow' }, ['p99 < 100ms', 'errors < 1%']), figures);
    expect(recovery).toMatchObject({ pass: true, measured: 996_000, measuredText: '996ms' });
  });

  it('judges shares of backends and remapped keys inside a window', () => {
    expect(judge(rule('share(b1) >= 39%'), figures)).toMatchObject({ pass: true, measuredText: '40%' });
    expect(judge(rule('share(b1) < 30%', { kind: 'during', fault: 'slow' }), figures)).toMatchObject({ pass: true, measuredText: '25%' });
    expect(judge(rule('remapped < 40%', { kind: 'during', fault: 'slow' }), figures)).toMatchObject({ pass: false, measuredText: '50%' });
    expect(judge(rule('remapped == 0%', { kind: 'after', fault: 'slow' }), figures).pass).toBe(true);
  });

  it('fails a scoped line whose fault was never applied, and a recovery that never comes', () => {
    const unapplied = { ...figures, faults: [{ ...slow, appliedAtMs: undefined, removedAtMs: undefined }] };
    expect(judge(rule('p99 < 1s', { kind: 'during', fault: 'slow' }), unapplied)).toMatchObject({ pass: false, measuredText: 'fault never applied' });
    const never = judge(rule('recovery < 2s', { kind: 'after', fault: 'slow' }, ['p99 < 1ms']), figures);
    expect(never).toMatchObject({ pass: false, measured: null, measuredText: 'never' });
  });
});

describe('activeBetween', () => {
  it('lists faults whose window overlaps, a fault never removed lasting to the end', () => {
    const kill: FaultRecord = { name: 'kill', kind: 'kill', service: 'service', settings: {}, atMs: 8000, appliedAtMs: 8010 };
    expect(activeBetween([slow, kill], 3000, 4000)).toEqual([]);
    expect(activeBetween([slow, kill], 4000, 5000)).toEqual(['slow']);
    expect(activeBetween([slow, kill], 6000, 7000)).toEqual(['slow']);
    expect(activeBetween([slow, kill], 9000, 10000)).toEqual(['kill']);
  });
});
