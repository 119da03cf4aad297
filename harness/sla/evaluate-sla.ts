import type { LoadStats, SlaVerdict, WindowStats } from '../result/result.ts';
import { decodeHistogram } from '../metrics/histogram.ts';
import { compare, errorKindMatches, type SlaExpression } from './sla-grammar.ts';
import { formatValue } from '../result/format.ts';

/** What an SLA line is judged on: one window's figures (the whole measured window for now). */
export interface SlaWindow {
  stats: WindowStats;
  load: Pick<LoadStats, 'dropped' | 'late'>;
  /** For `recovery`: µs from the fault's end until recovered; null = never. */
  recoveryUs?: number | null;
  /** Responses per backend (or process) in the window, for `share(b)`. */
  servedBy?: Record<string, number>;
  /** For `remapped`: the fraction of keys that moved; null = no keys to compare. */
  remapped?: number | null;
}

function countKind(stats: WindowStats, kind: string): number {
  let n = 0;
  for (const [k, c] of Object.entries(stats.errorsByKind)) if (errorKindMatches(kind, k)) n += c;
  return n;
}

/** The measured value of an SLA metric in its base unit, or null when there is no data to judge. */
export function measure(expr: SlaExpression, w: SlaWindow): number | null {
  const s = w.stats;
  const m = expr.metric;
  switch (m.kind) {
    case 'percentile': {
      if (!hasResponses(s)) return null;
      const h = decodeHistogram(s.histogram);
      const v = h.getValueAtPercentile(m.percentile);
      h.destroy();
      return v;
    }
    case 'mean':
    case 'min':
    case 'max':
      return hasResponses(s) ? s.latencyUs[m.kind] : null;
    case 'errors':
      return s.requests === 0 ? null : s.errors / s.requests;
    case 'rate':
      return s.requests === 0 ? null : countKind(s, m.errorKind) / s.requests;
    case 'throughput':
      return s.throughput;
    case 'requests':
      return s.requests;
    case 'count':
      return countKind(s, m.errorKind);
    case 'dropped':
      return w.load.dropped;
    case 'late':
      return w.load.late;
    case 'recovery':
      return w.recoveryUs ?? null;
    case 'remapped':
      return w.remapped ?? null;
    case 'share': {
      const all = Object.values(w.servedBy ?? {}).reduce((a, b) => a + b, 0);
      return all === 0 ? null : (w.servedBy?.[m.backend] ?? 0) / all;
    }
  }
}

function hasResponses(s: WindowStats): boolean {
  return s.latencyUs.max > 0;
}

/** Judges one SLA line on a window. No data never passes: a design that answered nothing fails. */
export function evaluateSla(expr: SlaExpression, w: SlaWindow): SlaVerdict {
  const measured = measure(expr, w);
  return {
    line: expr.source,
    pass: measured !== null && compare(measured, expr.op, expr.threshold),
    measured,
    threshold: expr.threshold,
    unit: expr.unit,
    measuredText: measured === null && expr.metric.kind === 'recovery' ? 'never' : formatValue(measured, expr.unit),
  };
}
