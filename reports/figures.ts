import type { DesignResult, SlaVerdict, Wording } from '../harness/result/result.ts';

/** One headline figure of a design's measured window. */
export interface Figure {
  /** Its heading, in the workload's wording where it names operations (`requests`, `messages`). */
  label(wording: Wording): string;
  unit: SlaVerdict['unit'];
  /** Which direction is better: a regression is a move the other way. */
  better: 'lower' | 'higher' | 'neither';
  value(d: DesignResult): number | null;
}

const fixed = (label: string) => () => label;

/** The headline figures every report shows, in order (latencies in µs). */
export const figures = {
  ops: { label: (w) => w.many, unit: 'count', better: 'neither', value: (d) => d.totals.ops },
  throughput: { label: fixed('ok/s'), unit: 'per-second', better: 'higher', value: (d) => d.totals.throughput },
  errors: { label: fixed('errors'), unit: 'fraction', better: 'lower', value: (d) => (d.totals.ops > 0 ? d.totals.errors / d.totals.ops : null) },
  p50: { label: fixed('p50'), unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.p50 },
  p90: { label: fixed('p90'), unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.p90 },
  p99: { label: fixed('p99'), unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.p99 },
  p999: { label: fixed('p99.9'), unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.p999 },
  max: { label: fixed('max'), unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.max },
  mean: { label: fixed('mean'), unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.mean },
  late: { label: fixed('late sends'), unit: 'count', better: 'lower', value: (d) => d.load.late },
  dropped: { label: fixed('dropped sends'), unit: 'count', better: 'lower', value: (d) => d.load.dropped },
} satisfies Record<string, Figure>;

/** Names of the headline figures. */
export type FigureName = keyof typeof figures;

/** The figures as [name, figure] pairs, in display order. */
export function figureEntries(names: readonly FigureName[] = Object.keys(figures) as FigureName[]): [FigureName, Figure][] {
  return names.map((n) => [n, figures[n]]);
}
