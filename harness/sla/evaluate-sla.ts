import type { SlaVerdict } from '../result/result.ts';
import { formatValue } from '../result/format.ts';
import type { SlaWindow } from './metric-registry.ts';
import { compare, type SlaExpression } from './sla-grammar.ts';

/** Judges one SLA line on a window. No data never passes: a design that answered nothing fails. */
export function evaluateSla(expr: SlaExpression, w: SlaWindow): SlaVerdict {
  const measured = expr.metric.measure(w);
  return {
    line: expr.source,
    pass: measured !== null && compare(measured, expr.op, expr.threshold),
    measured,
    op: expr.op,
    threshold: expr.threshold,
    unit: expr.unit,
    measuredText: measured === null && expr.metric.kind === 'recovery' ? 'never' : formatValue(measured, expr.unit),
  };
}
