import type { SlaExpression } from './sla-grammar.ts';

/** Which part of the run a scoped SLA line is judged on. */
export interface SlaScope {
  kind: 'before' | 'during' | 'after';
  fault: string;
  /** With `after`: only this long after the fault's end (ms). */
  forMs?: number;
}

/** One SLA line of a scenario, parsed: what to check, and where. */
export interface SlaRule {
  expr: SlaExpression;
  /** As shown in reports: `p99 < 100ms`, `during slow: e2e p99 < 250ms`. */
  display: string;
  scope?: SlaScope;
  /** For `recovery`: the per-second thresholds that mean "recovered". */
  until?: SlaExpression[];
  /** For `recovery`: how long after the fault's end the thresholds must keep holding (ms); default to the next fault or the window's end. */
  holdMs?: number;
}
