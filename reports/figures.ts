import type { DesignResult, SlaVerdict } from '../harness/result/result.ts';

/** One headline figure of a design's measured window. */
export interface Figure {
  label: string;
  unit: SlaVerdict['unit'];
  /** Which direction is better: a regression is a move the other way. */
  better: 'lower' | 'higher' | 'neither';
  value(d: DesignResult): number | null;
}

/** The headline figures every report shows, in order (latencies in µs). */
export const figures = {
  requests: { label: 'requests', unit: 'count', better: 'neither', value: (d) => d.totals.requests },
  throughput: { label: 'ok/s', unit: 'per-second', better: 'higher', value: (d) => d.totals.throughput },
  errors: { label: 'errors', unit: 'fraction', better: 'lower', value: (d) => (d.totals.requests > 0 ? d.totals.errors / d.totals.requests : null) },
  p50: { label: 'p50', unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.p50 },
  p90: { label: 'p90', unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.p90 },
  p99: { label: 'p99', unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.p99 },
  p999: { label: 'p99.9', unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.p999 },
  max: { label: 'max', unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.max },
  mean: { label: 'mean', unit: 'latency', better: 'lower', value: (d) => d.totals.latencyUs.mean },
  late: { label: 'late sends', unit: 'count', better: 'lower', value: (d) => d.load.late },
  dropped: { label: 'dropped sends', unit: 'count', better: 'lower', value: (d) => d.load.dropped },
} satisfies Record<string, Figure>;

/** Names of the headline figures. */
export type FigureName = keyof typeof figures;

/** The figures as [name, figure] pairs, in display order. */
export function figureEntries(names: readonly FigureName[] = Object.keys(figures) as FigureName[]): [FigureName, Figure][] {
  return names.map((n) => [n, figures[n]]);
}
