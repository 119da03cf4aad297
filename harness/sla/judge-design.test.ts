import { describe, expect, it } from 'vitest';
import { activeBetween } from '../faults/fault-timeline.ts';
import type { CheckCount, FaultRecord, SecondStats } from '../result/result.ts';
import { judge, recoveryUs, scopeSeconds } from './judge-design.ts';
import { buildRegistry } from './metric-registry.ts';
import { everythingWorkload, figuresOf, row } from './sla-fixtures.ts';
import { parseSla } from './sla-grammar.ts';
import type { SlaRule, SlaScope } from './sla-rule.ts';

const registry = buildRegistry(everythingWorkload);
const sla = (line: string) => parseSla(line, registry);

/**
 * Ten seconds at 100 operations a second: 2 ms normally, 300 ms in seconds 4–5, 20 refused in
 * second 6; backends b1 and b2 share the answers except in seconds 4–5 (all b2). Messages take
 * 2 ms end to end, 50 ms in seconds 4–6 while the backlog drains; the lag gauge climbs in
 * seconds 4–7; 5 messages are lost in seconds 4–5, 2 duplicated in second 5, 7 redelivered
 * in second 5.
 */
function series(): SecondStats[] {
  const lag = [0, 0, 0, 0, 500, 1200, 300, 200, 0, 0];
  return Array.from({ length: 10 }, (_, s) => {
    const slow = s === 4 || s === 5;
    return row(s, {
      ok: [[100, slow ? 300_000 : 2000]],
      ...(s === 6 ? { failed: { refused: [20] as [number] } } : {}),
      tallies: { served_by: slow ? { b2: 100 } : { b1: 50, b2: 50 } },
      distributions: { e2e: [[100, s >= 4 && s <= 6 ? 50_000 : 2000]] },
      gauges: { lag: lag[s]! },
      ...(s === 5 ? { counters: { redeliveries: 7 } } : {}),
    });
  });
}

const checks: Record<string, CheckCount> = {
  lost: { checker: 'delivery', value: 5, unit: 'count', perSecond: [0, 0, 0, 0, 3, 2, 0, 0, 0, 0], examples: [] },
  duplicated: { checker: 'delivery', value: 2, unit: 'count', perSecond: [0, 0, 0, 0, 0, 2, 0, 0, 0, 0], examples: [] },
  overlaps: { checker: 'fencing', value: 0, unit: 'count', examples: [] },
  remapped: { checker: 'key-remap', value: null, unit: 'fraction', byFault: { slow: { during: 0.5, after: 0 } }, examples: [] },
};

const slow: FaultRecord = { name: 'slow', kind: 'latency', link: 'client->service', settings: {}, atMs: 4000, forMs: 2000, appliedAtMs: 4003, removedAtMs: 6004 };

function rule(check: string, scope?: SlaScope, until?: string[]): SlaRule {
  return {
    expr: sla(check),
    display: scope ? `${scope.kind} ${scope.fault}: ${check}` : check,
    ...(scope ? { scope } : {}),
    ...(until ? { until: until.map(sla) } : {}),
  };
}

const before = { kind: 'before', fault: 'slow' } as const;
const during = { kind: 'during', fault: 'slow' } as const;
const after = { kind: 'after', fault: 'slow' } as const;

describe('scopeSeconds', () => {
  it('covers whole seconds before, during and after a fault', () => {
    expect(scopeSeconds(before, slow, 10_000)).toEqual({ from: 0, to: 4 });
    expect(scopeSeconds(during, slow, 10_000)).toEqual({ from: 4, to: 7 });
    expect(scopeSeconds(after, slow, 10_000)).toEqual({ from: 7, to: 10 });
    expect(scopeSeconds({ ...after, forMs: 1000 }, slow, 10_000)).toEqual({ from: 7, to: 8 });
  });
});

describe('recoveryUs', () => {
  const s = series();
  it('is the time from the fault end to the first second that holds and keeps holding', () => {
    // Seconds 4–5 are slow and second 6 has errors: with both thresholds, second 7 is the first good one.
    expect(recoveryUs(s, 6004, [sla('p99 < 100ms'), sla('errors < 1%')])).toBe(996_000);
    // Judged on latency only, second 6 already holds.
    expect(recoveryUs(s, 6004, [sla('p99 < 100ms')])).toBe(0);
    expect(recoveryUs(s, 4100, [sla('p99 < 100ms')])).toBe(1_900_000);
  });

  it('judges any per-second metric: a distribution, a gauge, a counter, a checker count', () => {
    expect(recoveryUs(s, 6004, [sla('e2e p99 < 10ms')])).toBe(996_000);
    expect(recoveryUs(s, 6004, [sla('lag < 100')])).toBe(1_996_000);
    expect(recoveryUs(s, 4100, [sla('redeliveries == 0')])).toBe(1_900_000);
    expect(recoveryUs(s, 4100, [sla('lost == 0')], checks)).toBe(1_900_000);
    expect(recoveryUs(s, 4100, [sla('lost == 0')])).toBeNull();
  });

  it('is not fooled by a clean second while errors for later-due requests still come: the thresholds must keep holding', () => {
    const flaky = series();
    // Second 7 looks clean, second 8 has the failures of requests due in it.
    flaky[8] = row(8, { ok: [[80, 2000]], failed: { http_503: [20] } });
    expect(recoveryUs(flaky, 6004, [sla('errors < 1%')])).toBe(2_996_000);
    // Held only through second 7 (a stated hold, or the next fault starting there), second 7 is enough.
    expect(recoveryUs(flaky, 6004, [sla('errors < 1%')], {}, 8)).toBe(996_000);
  });

  it('holds to the next fault, a stated hold, or the end of the window', () => {
    const flaky = series();
    flaky[8] = row(8, { ok: [[80, 2000]], failed: { http_503: [20] } });
    const next: FaultRecord = { name: 'next', kind: 'kill', service: 'service', settings: {}, atMs: 8000, appliedAtMs: 8001 };
    const recovery = (holdMs?: number, faults: FaultRecord[] = [slow]) =>
      judge({ ...rule('recovery < 2s', { kind: 'after', fault: 'slow' }, ['errors < 1%']), ...(holdMs !== undefined ? { holdMs } : {}) }, figuresOf(flaky, { faults, checks })).measured;
    expect(recovery()).toBe(2_996_000);
    expect(recovery(undefined, [slow, next])).toBe(996_000);
    expect(recovery(1000)).toBe(996_000);
  });

  it('is null (never) when the thresholds never hold again', () => {
    expect(recoveryUs(s, 2000, [sla('p99 < 1ms')])).toBeNull();
  });
});

describe('judge', () => {
  const figures = figuresOf(series(), { faults: [slow], checks });

  it('judges whole-run and scoped lines on merged histograms of their seconds', () => {
    expect(judge(rule('p99 < 100ms'), figures)).toMatchObject({ pass: false, op: '<', unit: 'latency' });
    expect(judge(rule('p99 < 10ms', before), figures)).toMatchObject({ pass: true, measuredText: '2ms', window: { scope: 'before', fromMs: 0, toMs: 4000 } });
    // Seconds 4–6: two slow, one fast.
    expect(judge(rule('p75 >= 250ms', during), figures)).toMatchObject({ pass: true, window: { fromMs: 4000, toMs: 7000 } });
    expect(judge(rule('recovery < 2s', after, ['p99 < 100ms', 'errors < 1%']), figures)).toMatchObject({ pass: true, measured: 996_000, measuredText: '996ms', window: { fromMs: 6004 } });
  });

  it('judges a distribution on the seconds of a scope', () => {
    // Seconds 4–6: all three at 50 ms.
    expect(judge(rule('e2e p50 >= 50ms', during), figures)).toMatchObject({ pass: true, measuredText: '50ms' });
    expect(judge(rule('e2e p99 < 5ms', before), figures)).toMatchObject({ pass: true, measuredText: '2ms' });
    expect(judge(rule('e2e max < 5ms', after), figures)).toMatchObject({ pass: true, measuredText: '2ms', window: { fromMs: 7000, toMs: 10_000 } });
    expect(judge(rule('e2e p99 < 10ms'), figures)).toMatchObject({ pass: false, measuredText: '50ms' });
  });

  it('judges a gauge on its largest sample in the window', () => {
    expect(judge(rule('lag < 1000'), figures)).toMatchObject({ pass: false, measured: 1200 });
    expect(judge(rule('lag == 0', before), figures)).toMatchObject({ pass: true, measured: 0 });
    expect(judge(rule('lag <= 1200', during), figures)).toMatchObject({ pass: true, measured: 1200 });
    expect(judge(rule('lag < 100', after), figures)).toMatchObject({ pass: false, measured: 200 });
    expect(judge(rule('lag < 100', { ...after, forMs: 1000 }), figures)).toMatchObject({ pass: false, measured: 200 });
  });

  it('judges a checker count on its per-second values inside a scope', () => {
    expect(judge(rule('lost == 5'), figures).pass).toBe(true);
    expect(judge(rule('lost == 0', before), figures)).toMatchObject({ pass: true, measured: 0 });
    expect(judge(rule('lost == 5', during), figures)).toMatchObject({ pass: true, measured: 5 });
    expect(judge(rule('lost == 0', after), figures)).toMatchObject({ pass: true, measured: 0 });
    // A count written as a percentage is the count over the window's operations: 2 / 1020 whole run, 2 / 320 during.
    expect(judge(rule('duplicated < 0.1%'), figures)).toMatchObject({ pass: false, measuredText: '0.196%', unit: 'fraction' });
    expect(judge(rule('duplicated < 1%', during), figures)).toMatchObject({ pass: true, measuredText: '0.625%' });
    // Counted only over the whole run: a scoped line has nothing to judge.
    expect(judge(rule('overlaps == 0'), figures).pass).toBe(true);
    expect(judge(rule('overlaps == 0', during), figures)).toMatchObject({ pass: false, measured: null, measuredText: 'no data' });
  });

  it('judges counters, shares of backends and remapped keys inside a window', () => {
    expect(judge(rule('redeliveries == 7', during), figures).pass).toBe(true);
    expect(judge(rule('redeliveries == 0', before), figures).pass).toBe(true);
    expect(judge(rule('share(b1) >= 39%'), figures)).toMatchObject({ pass: true, measuredText: '40%' });
    expect(judge(rule('share(b1) < 30%', during), figures)).toMatchObject({ pass: true, measuredText: '16.7%' });
    expect(judge(rule('remapped < 40%', during), figures)).toMatchObject({ pass: false, measuredText: '50%' });
    expect(judge(rule('remapped == 0%', after), figures).pass).toBe(true);
  });

  it('takes any per-second metric as a recovery threshold', () => {
    expect(judge(rule('recovery < 2s', after, ['e2e p99 < 10ms']), figures)).toMatchObject({ pass: true, measured: 996_000 });
    expect(judge(rule('recovery < 1s', after, ['lag < 100']), figures)).toMatchObject({ pass: false, measured: 1_996_000, measuredText: '2s' });
    expect(judge(rule('recovery == 0s', after, ['lost == 0']), figures)).toMatchObject({ pass: true, measured: 0 });
  });

  it('fails a scoped line whose fault was never applied, and a recovery that never comes', () => {
    const unapplied = { ...figures, faults: [{ ...slow, appliedAtMs: undefined, removedAtMs: undefined }] };
    expect(judge(rule('p99 < 1s', during), unapplied)).toMatchObject({ pass: false, measuredText: 'fault never applied', op: '<' });
    expect(judge(rule('recovery < 2s', after, ['p99 < 1ms']), figures)).toMatchObject({ pass: false, measured: null, measuredText: 'never' });
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
