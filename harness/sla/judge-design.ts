import { mergeRows } from '../metrics/recorder.ts';
import type { FaultRecord, KeyRemap, LoadStats, SecondStats, SlaVerdict, WindowStats } from '../result/result.ts';
import { evaluateSla } from './evaluate-sla.ts';
import type { SlaExpression } from './sla-grammar.ts';
import type { SlaRule, SlaScope } from './sla-rule.ts';

/** What a design's SLA lines are judged on. */
export interface DesignFigures {
  totals: WindowStats;
  load: Pick<LoadStats, 'dropped' | 'late'>;
  series: readonly SecondStats[];
  faults: readonly FaultRecord[];
  /** Length of the measured window (ms). */
  windowMs: number;
  /** Responses per backend over the whole window. */
  servedBy: Record<string, number>;
  keys?: KeyRemap | undefined;
}

/** Seconds a recovered design must stay inside its thresholds (or until the run ends). */
export const RECOVERY_STABLE_SECONDS = 2;

/** When a fault's effect ended: its removal, or for an instant fault (a kill with no `for`) its start. */
function faultEnd(r: FaultRecord): number | undefined {
  return r.removedAtMs ?? (r.forMs === undefined ? r.appliedAtMs : undefined);
}

/**
 * The whole seconds a scope covers: `before` the seconds that end by the fault's start,
 * `during` every second that overlaps it and the second after it ends, `after` the seconds
 * that start at or after its end. Responses count in the second they arrive, and the requests
 * a fault held back (a frozen process, a stalled link) arrive just after it ends: `during`
 * takes that second in, so it judges what the fault did to the requests it caught.
 */
export function scopeSeconds(scope: SlaScope, r: FaultRecord, windowMs: number): { from: number; to: number } | undefined {
  const lastSecond = Math.ceil(windowMs / 1000);
  if (r.appliedAtMs === undefined) return undefined;
  switch (scope.kind) {
    case 'before':
      return { from: 0, to: Math.floor(r.appliedAtMs / 1000) };
    case 'during':
      return { from: Math.floor(r.appliedAtMs / 1000), to: Math.min(lastSecond, Math.ceil((r.removedAtMs ?? windowMs) / 1000) + 1) };
    case 'after': {
      const end = faultEnd(r);
      if (end === undefined) return undefined;
      const from = Math.ceil(end / 1000);
      return { from, to: scope.forMs === undefined ? lastSecond : Math.min(lastSecond, Math.ceil((end + scope.forMs) / 1000)) };
    }
  }
}

function rowPasses(row: SecondStats, until: readonly SlaExpression[]): boolean {
  return until.every((e) => evaluateSla(e, { stats: row, load: { dropped: row.dropped ?? 0, late: row.late ?? 0 } }).pass);
}

/**
 * Recovery in µs: from the fault's end to the start of the first second from which every
 * threshold holds for RECOVERY_STABLE_SECONDS seconds in a row (or to the end of the run).
 * The second in which the fault ended counts: if it already holds, recovery is 0. Null: never.
 */
export function recoveryUs(series: readonly SecondStats[], end: number, until: readonly SlaExpression[]): number | null {
  const first = Math.floor(end / 1000);
  for (let s = first; s < series.length; s++) {
    const run = series.slice(s, s + RECOVERY_STABLE_SECONDS);
    if (run.every((row) => rowPasses(row, until))) return Math.max(0, s * 1000 - end) * 1000;
  }
  return null;
}

/** Judges one SLA rule on a design's figures, whole-run or inside a fault's scope. */
export function judge(rule: SlaRule, d: DesignFigures): SlaVerdict {
  if (!rule.scope) return { ...evaluateSla(rule.expr, { stats: d.totals, load: d.load, servedBy: d.servedBy }), line: rule.display };
  const scope = rule.scope;
  const record = d.faults.find((f) => f.name === scope.fault);
  const seconds = record && scopeSeconds(scope, record, d.windowMs);
  const notApplied = (why: string): SlaVerdict => ({ line: rule.display, pass: false, measured: null, threshold: rule.expr.threshold, unit: rule.expr.unit, measuredText: why });
  if (!record || record.appliedAtMs === undefined) return notApplied('fault never applied');
  if (!seconds) return notApplied(scope.kind === 'after' ? 'fault never ended' : 'no window');
  const window = { scope: scope.kind, fault: scope.fault, fromMs: seconds.from * 1000, toMs: seconds.to * 1000 };
  if (rule.expr.metric.kind === 'recovery') {
    const end = faultEnd(record)!;
    const verdict = evaluateSla(rule.expr, { stats: d.totals, load: d.load, recoveryUs: recoveryUs(d.series, end, rule.until ?? []) });
    return { ...verdict, line: rule.display, window: { ...window, fromMs: end } };
  }
  const rows = d.series.slice(seconds.from, seconds.to);
  const merged = mergeRows(rows, Math.max(rows.length, 1));
  const remap = d.keys?.byFault[scope.fault];
  const remapped = scope.kind === 'during' ? remap?.during : scope.kind === 'after' ? remap?.after : undefined;
  return { ...evaluateSla(rule.expr, { stats: merged, load: merged, servedBy: merged.servedBy, remapped: remapped ?? null }), line: rule.display, window };
}
