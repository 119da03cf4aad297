import { mergeRows } from '../metrics/sink.ts';
import { LOAD_GENERATOR, type CheckCount, type DistributionStats, type FaultRecord, type GaugeStats, type LoadStats, type ResourceSummary, type SecondStats, type SlaVerdict, type WindowStats } from '../result/result.ts';
import { evaluateSla } from './evaluate-sla.ts';
import type { SlaWindow } from './metric-registry.ts';
import type { SlaExpression } from './sla-grammar.ts';
import type { SlaRule, SlaScope } from './sla-rule.ts';

/** What a design's SLA lines are judged on (all of it in the design's result). */
export interface DesignFigures {
  /** Operations of the measured window. */
  totals: WindowStats;
  load: Pick<LoadStats, 'dropped' | 'late'>;
  /** One row per second of the window. */
  series: readonly SecondStats[];
  faults: readonly FaultRecord[];
  /** Length of the measured window (ms). */
  windowMs: number;
  distributions: Record<string, DistributionStats>;
  counters: Record<string, number>;
  tallies: Record<string, Record<string, number>>;
  gauges: Record<string, GaugeStats>;
  /** What the checkers found, by count name. */
  checks: Record<string, CheckCount>;
  /** What the services cost over the window, when they were sampled (each row then has its second's). */
  resources?: ResourceSummary;
}


/** When a fault's effect ended: its removal, or for an instant fault (a kill with no `for`) its start. */
function faultEnd(r: FaultRecord): number | undefined {
  return r.removedAtMs ?? (r.forMs === undefined ? r.appliedAtMs : undefined);
}

/**
 * The whole seconds a scope covers: `before` the seconds that end by the fault's start,
 * `during` every second that overlaps it, `after` the seconds that start at or after its end.
 * Operations count in the second they were due, so those a fault held back (a frozen process,
 * a stalled link) count in the fault's own seconds however late they answered.
 */
export function scopeSeconds(scope: SlaScope, r: FaultRecord, windowMs: number): { from: number; to: number } | undefined {
  const lastSecond = Math.ceil(windowMs / 1000);
  if (r.appliedAtMs === undefined) return undefined;
  switch (scope.kind) {
    case 'before':
      return { from: 0, to: Math.floor(r.appliedAtMs / 1000) };
    case 'during':
      return { from: Math.floor(r.appliedAtMs / 1000), to: Math.min(lastSecond, Math.ceil((r.removedAtMs ?? windowMs) / 1000)) };
    case 'after': {
      const end = faultEnd(r);
      if (end === undefined) return undefined;
      const from = Math.ceil(end / 1000);
      return { from, to: scope.forMs === undefined ? lastSecond : Math.min(lastSecond, Math.ceil((end + scope.forMs) / 1000)) };
    }
  }
}

/**
 * What the design's services cost in some seconds, from their rows: CPU summed over the
 * seconds per operation completed in them, memory at the largest per-second sum. The load
 * generator is not the design. Undefined when no row has a sample.
 */
function rowsResources(rows: readonly SecondStats[], ops: number): SlaWindow['resources'] {
  let cpuUs = 0;
  let peakRssBytes: number | null = null;
  for (const r of rows) {
    const services = Object.entries(r.resources ?? {}).filter(([name]) => name !== LOAD_GENERATOR);
    if (services.length === 0) continue;
    let rss = 0;
    for (const [, u] of services) {
      cpuUs += u.cpuUs;
      rss += u.rssBytes;
    }
    peakRssBytes = Math.max(peakRssBytes ?? 0, rss);
  }
  if (peakRssBytes === null) return rows.some((r) => r.resources) ? { cpuUsPerOp: null, peakRssBytes: null } : undefined;
  return { cpuUsPerOp: ops > 0 ? cpuUs / ops : null, peakRssBytes };
}

/** The run's figures as a window reads them: no memory figure when no service of the design gave a sample. */
function summaryResources(r: ResourceSummary): SlaWindow['resources'] {
  const sampled = Object.keys(r.byService).some((name) => name !== LOAD_GENERATOR);
  return { cpuUsPerOp: r.cpuUsPerOp, peakRssBytes: sampled ? r.peakRssBytes : null };
}

/** The whole measured window; a gauge at its largest sample. */
function runWindow(d: DesignFigures): SlaWindow {
  return {
    span: { kind: 'run' },
    ops: d.totals,
    dropped: d.load.dropped,
    late: d.load.late,
    distributions: d.distributions,
    counters: d.counters,
    tallies: d.tallies,
    gauges: Object.fromEntries(Object.entries(d.gauges).map(([name, g]) => [name, g.max])),
    checks: d.checks,
    ...(d.resources ? { resources: summaryResources(d.resources) } : {}),
  };
}

/** Seconds [from, to) merged: histograms merged exactly, counts summed, gauges at their largest. */
function secondsWindow(d: DesignFigures, from: number, to: number, fault: { name: string; scope: SlaScope['kind'] }): SlaWindow {
  const rows = d.series.slice(from, to);
  const merged = mergeRows(rows, Math.max(rows.length, 1));
  return {
    span: { kind: 'seconds', from, to, fault },
    ops: merged,
    dropped: merged.dropped,
    late: merged.late,
    distributions: merged.distributions,
    counters: merged.counters,
    tallies: merged.tallies,
    gauges: merged.gauges,
    checks: d.checks,
    resources: rowsResources(rows, merged.ops),
  };
}

/** One second, as its row recorded it. */
function oneSecond(row: SecondStats, second: number, checks: Readonly<Record<string, CheckCount>>): SlaWindow {
  return {
    span: { kind: 'seconds', from: second, to: second + 1 },
    ops: row,
    dropped: row.dropped ?? 0,
    late: row.late ?? 0,
    distributions: row.distributions ?? {},
    counters: row.counters ?? {},
    tallies: row.tallies ?? {},
    gauges: row.gauges ?? {},
    checks,
    resources: rowsResources([row], row.ops),
  };
}

/**
 * Recovery in µs: from the fault's end to the start of the first second from which every
 * threshold holds and keeps holding through second `holdTo` (exclusive: the next fault's
 * start, a stated `hold`, or the end of the window), so a window that looks clean for a second
 * while answers to requests sent in it are still failing does not count as recovered. Seconds
 * are the seconds operations were due in. The second in which the fault ended counts: if it
 * and every later one hold, recovery is 0. Null: never. `checks` gives checker counts with
 * per-second values to `until` lines that name them.
 */
export function recoveryUs(series: readonly SecondStats[], end: number, until: readonly SlaExpression[], checks: Readonly<Record<string, CheckCount>> = {}, holdTo = series.length): number | null {
  const holds = (s: number): boolean => until.every((e) => evaluateSla(e, oneSecond(series[s]!, s, checks)).pass);
  const first = Math.floor(end / 1000);
  const last = Math.min(series.length, Math.max(holdTo, first + 1));
  let s = last;
  while (s > first && holds(s - 1)) s--;
  return s === last ? null : Math.max(0, s * 1000 - end) * 1000;
}

/** The second a recovery must hold through: a stated hold after the fault's end, else the next fault's start, else the window's end. */
function holdSeconds(end: number, holdMs: number | undefined, faults: readonly FaultRecord[], windowMs: number): number {
  if (holdMs !== undefined) return Math.ceil((end + holdMs) / 1000);
  const next = faults.map((f) => f.appliedAtMs).filter((at): at is number => at !== undefined && at > end);
  return Math.floor(Math.min(windowMs, ...next) / 1000);
}

/** Judges one SLA rule on a design's figures, whole-run or inside a fault's scope. */
export function judge(rule: SlaRule, d: DesignFigures): SlaVerdict {
  if (!rule.scope) return { ...evaluateSla(rule.expr, runWindow(d)), line: rule.display };
  const scope = rule.scope;
  const record = d.faults.find((f) => f.name === scope.fault);
  const notApplied = (why: string): SlaVerdict => ({ line: rule.display, pass: false, measured: null, op: rule.expr.op, threshold: rule.expr.threshold, unit: rule.expr.unit, measuredText: why });
  if (!record || record.appliedAtMs === undefined) return notApplied('fault never applied');
  const seconds = scopeSeconds(scope, record, d.windowMs);
  if (!seconds) return notApplied(scope.kind === 'after' ? 'fault never ended' : 'no window');
  const window = { scope: scope.kind, fault: scope.fault, fromMs: seconds.from * 1000, toMs: seconds.to * 1000 };
  if (rule.expr.metric.kind === 'recovery') {
    const end = faultEnd(record)!;
    const verdict = evaluateSla(rule.expr, { ...runWindow(d), recoveryUs: recoveryUs(d.series, end, rule.until ?? [], d.checks, holdSeconds(end, rule.holdMs, d.faults, d.windowMs)) });
    return { ...verdict, line: rule.display, window: { ...window, fromMs: end } };
  }
  const w = secondsWindow(d, seconds.from, seconds.to, { name: scope.fault, scope: scope.kind });
  return { ...evaluateSla(rule.expr, w), line: rule.display, window };
}
