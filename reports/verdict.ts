import type { RunResult, SlaVerdict } from '../harness/result/result.ts';
import { formatValue } from '../harness/result/format.ts';

/** A run's overall verdict for people and for the report's colours. */
export interface RunVerdict {
  status: 'pass' | 'fail' | 'incomplete';
  /** `PASS: every SLA line held`, `FAIL: single missed the SLA`, `INCOMPLETE: …`. */
  text: string;
  /** Designs that missed at least one SLA line or did not complete. */
  failed: string[];
}

/** The verdict of a run: incomplete when it was cut short, else pass when every design passed. */
export function runVerdict(result: RunResult): RunVerdict {
  const failed = result.designs.filter((d) => !d.passed).map((d) => d.name);
  if (!result.complete) return { status: 'incomplete', text: 'INCOMPLETE: the run was cut short', failed };
  if (failed.length === 0) return { status: 'pass', text: 'PASS: every SLA line held', failed };
  return { status: 'fail', text: `FAIL: ${failed.join(', ')} missed the SLA`, failed };
}

/** Designs of the scenario that have no result because the run stopped before them. */
export function designsNotRun(result: RunResult): string[] {
  const ran = new Set(result.designs.map((d) => d.name));
  return Object.keys(result.scenario.designs).filter((d) => !ran.has(d));
}

/** Where an SLA line was judged: `whole window`, or `during slow-backend, 10–20 s`. */
export function windowText(v: SlaVerdict): string {
  if (!v.window) return 'whole window';
  return `${v.window.scope} ${v.window.fault}, ${+(v.window.fromMs / 1000).toFixed(1)}–${+(v.window.toMs / 1000).toFixed(1)} s`;
}

/** An SLA line's bound for people: `< 50ms`. */
export function thresholdText(v: SlaVerdict): string {
  return `${v.op} ${formatValue(v.threshold, v.unit)}`;
}

/** One row of the SLA matrix: an SLA line and its verdict in each design (absent where not judged). */
export interface SlaRow {
  line: string;
  /** The first verdict found for the line, for its threshold and window. */
  example: SlaVerdict;
  cells: (SlaVerdict | undefined)[];
}

/** The SLA matrix of a run: every distinct SLA line (in order of first appearance) × the run's designs. */
export function slaMatrix(result: RunResult): SlaRow[] {
  const rows = new Map<string, SlaRow>();
  result.designs.forEach((d, i) => {
    for (const v of d.sla) {
      let row = rows.get(v.line);
      if (!row) {
        row = { line: v.line, example: v, cells: result.designs.map(() => undefined) };
        rows.set(v.line, row);
      }
      row.cells[i] = v;
    }
  });
  return [...rows.values()];
}
