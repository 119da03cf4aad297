import { formatValue } from '../harness/result/format.ts';
import type { CheckCount, DesignResult, MetricInfo, RunResult, ScenarioAsRun } from '../harness/result/result.ts';

/** What a named metric is: a latency distribution, a counter, a tally, a gauge or a checker's count. */
export type MetricKind = ScenarioAsRun['metrics'][string]['kind'];

const recorded: Record<MetricKind, (d: DesignResult) => Readonly<Record<string, unknown>>> = {
  distribution: (d) => d.distributions,
  counter: (d) => d.counters,
  tally: (d) => d.tallies,
  gauge: (d) => d.gauges,
  check: (d) => d.checks,
};

/**
 * The names of one kind that any of `designs` recorded, in the order the scenario declares them
 * (`scenario.metrics`), then any it did not declare, alphabetically.
 */
export function metricNames(result: RunResult, kind: MetricKind, designs: readonly DesignResult[] = result.designs): string[] {
  const seen = new Set(designs.flatMap((d) => Object.keys(recorded[kind](d))));
  const declared = Object.keys(result.scenario.metrics).filter((n) => seen.has(n));
  const rest = [...seen].filter((n) => !declared.includes(n)).sort((a, b) => a.localeCompare(b, 'en', { numeric: true }));
  return [...declared, ...rest];
}

/** How the scenario declared a name (description, unit, which way is better), when it did. */
export function metricInfo(result: RunResult, name: string): MetricInfo | undefined {
  return result.scenario.metrics[name];
}

/** A gauge's unit as declared; a plain count when undeclared. */
export function gaugeUnit(result: RunResult, name: string): MetricInfo['unit'] {
  return metricInfo(result, name)?.unit ?? 'count';
}

/** A counter of a design for people, in its declared unit; a counter that never moved is 0. */
export function counterText(result: RunResult, d: DesignResult, name: string): string {
  return formatValue(d.counters[name] ?? 0, metricInfo(result, name)?.unit ?? 'count');
}

/** A gauge's value for people in its unit; a count-like gauge's mean keeps at most one decimal (`66.3`). */
export function formatGauge(value: number, unit: MetricInfo['unit']): string {
  return unit === 'count' && !Number.isInteger(value) ? String(+value.toFixed(1)) : formatValue(value, unit);
}

/**
 * A checker's count for people: its value (`3`, `0.5%`), or, for a count judged around faults
 * whose whole-run value is null (`remapped`), each fault's values: `crash: during 50%, after 2.5%`.
 */
export function checkValueText(c: CheckCount): string {
  const byFault = Object.entries(c.byFault ?? {});
  if (c.value !== null || byFault.length === 0) return formatValue(c.value, c.unit);
  return byFault.map(([fault, v]) => `${fault}: during ${formatValue(v.during, c.unit)}, after ${formatValue(v.after, c.unit)}`).join('; ');
}

/** Capitalised, for headings: `requests` → `Requests`. */
export function capitalize(text: string): string {
  return text.charAt(0).toUpperCase() + text.slice(1);
}

/** One row of the correctness table: a checker's count and its value in each design (absent where not counted). */
export interface CheckRow {
  name: string;
  cells: (CheckCount | undefined)[];
}

/** The correctness table of a run: every checker count any design has × the run's designs. */
export function checkRows(result: RunResult): CheckRow[] {
  return metricNames(result, 'check').map((name) => ({ name, cells: result.designs.map((d) => d.checks[name]) }));
}

/** A row's examples, each with the design it comes from, at most `limit` from each design. */
export function rowExamples(result: RunResult, row: CheckRow, limit: number): { design: string; examples: string[] }[] {
  return row.cells.flatMap((c, i) => (c && c.examples.length > 0 ? [{ design: result.designs[i]!.name, examples: c.examples.slice(0, limit) }] : []));
}
