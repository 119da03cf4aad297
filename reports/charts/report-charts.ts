import type { DesignResult, RunResult } from '../../harness/result/result.ts';
import type { Chart, LayeredSpec } from './chart.ts';
import { errorsOverTime } from './errors-over-time.ts';
import { latencyOverTime } from './latency-over-time.ts';
import { percentileDistribution } from './percentile-distribution.ts';
import { servedBy } from './served-by.ts';
import { throughputOverTime } from './throughput-over-time.ts';

/** A chart drawn once per design that has measured seconds. */
export interface DesignChartKind {
  title: string;
  /** Whether this design has data for it (default: always). */
  applies?(design: DesignResult): boolean;
  spec(result: RunResult, design: DesignResult): LayeredSpec;
}

/** The charts of each design, in the order a report shows them. */
export const designChartKinds = {
  'latency-over-time': { title: 'Latency percentiles over time', spec: latencyOverTime },
  'throughput-over-time': { title: 'Throughput over time', spec: throughputOverTime },
  'errors-over-time': { title: 'Errors over time by kind', spec: errorsOverTime },
  'served-by': { title: 'Requests per backend', applies: (d) => Object.keys(d.servedBy).length > 0, spec: (_result, d) => servedBy(d) },
} satisfies Record<string, DesignChartKind>;

/** Kinds of per-design chart. */
export type DesignChartName = keyof typeof designChartKinds;

/** The time charts: those that shade fault windows. */
export const timeChartKinds: readonly DesignChartName[] = ['latency-over-time', 'throughput-over-time', 'errors-over-time'];

/** The percentile distribution of every design of a run, overlaid. */
export function runDistribution(result: RunResult): Chart {
  return {
    kind: 'percentile-distribution',
    title: 'Latency distribution by percentile',
    spec: percentileDistribution(result.designs.map((d) => ({ name: d.name, histogram: d.totals.histogram }))),
  };
}

/** The charts of one design (none when it measured nothing). */
export function designCharts(result: RunResult, design: DesignResult): Chart[] {
  if (design.series.length === 0) return [];
  const kinds: [string, DesignChartKind][] = Object.entries(designChartKinds);
  return kinds
    .filter(([, k]) => k.applies?.(design) ?? true)
    .map(([kind, k]) => ({ kind, title: k.title, design: design.name, spec: k.spec(result, design) }));
}

/** Every chart of a run's report: the distribution of all designs, then each design's charts. */
export function reportCharts(result: RunResult): Chart[] {
  return [runDistribution(result), ...result.designs.flatMap((d) => designCharts(result, d))];
}
