import type { DesignResult, RunResult } from '../../harness/result/result.ts';
import { capitalize, metricNames } from '../named-metrics.ts';
import type { Chart, LayeredSpec } from './chart.ts';
import { checkTimeline, timelineNames, timelineTitle } from './check-timeline.ts';
import { cpuOverTime, hasResources } from './cpu-over-time.ts';
import { distributionOverTime } from './distribution-over-time.ts';
import { errorsOverTime } from './errors-over-time.ts';
import { gaugeOverTime } from './gauge-over-time.ts';
import { latencyOverTime } from './latency-over-time.ts';
import { percentileDistribution } from './percentile-distribution.ts';
import { servedBy } from './served-by.ts';
import { throughputOverTime } from './throughput-over-time.ts';

/**
 * A chart drawn for each design that has measured seconds: once, or, for kinds with `names`,
 * once per name (each named distribution, each gauge), where `name` is handed to `title` and `spec`.
 */
export interface DesignChartKind {
  title(result: RunResult, name: string): string;
  /** The names to draw one chart each for. Absent: one chart, whose `name` is the empty string. */
  names?(result: RunResult, design: DesignResult): string[];
  /** Whether this design has data for it (default: always). */
  applies?(design: DesignResult): boolean;
  spec(result: RunResult, design: DesignResult, name: string): LayeredSpec;
}

/** The charts of each design, in the order a report shows them. */
export const designChartKinds = {
  'latency-over-time': { title: () => 'Latency percentiles over time', spec: latencyOverTime },
  'check-timeline': {
    title: timelineTitle,
    names: (_result, d) => timelineNames(d),
    spec: (_result, d, name) => checkTimeline(d, name),
  },
  'throughput-over-time': { title: () => 'Throughput over time', spec: throughputOverTime },
  'cpu-over-time': { title: () => 'CPU per service over time', applies: hasResources, spec: cpuOverTime },
  'errors-over-time': { title: () => 'Errors over time by kind', spec: errorsOverTime },
  'distribution-over-time': {
    title: (_result, name) => `${name} percentiles over time`,
    names: (result, d) => metricNames(result, 'distribution', [d]).filter((n) => d.distributions[n]!.count > 0),
    spec: distributionOverTime,
  },
  'gauge-over-time': {
    title: (_result, name) => `${name} over time`,
    names: (result, d) => metricNames(result, 'gauge', [d]),
    spec: gaugeOverTime,
  },
  'served-by': {
    title: (result) => `${capitalize(result.scenario.wording.many)} per backend`,
    applies: (d) => Object.keys(d.tallies.served_by ?? {}).length > 0,
    spec: (result, d) => servedBy(d, result.scenario.wording),
  },
} satisfies Record<string, DesignChartKind>;

/** Kinds of per-design chart. */
export type DesignChartName = keyof typeof designChartKinds;

/** The time charts: those that shade fault windows. */
export const timeChartKinds: readonly DesignChartName[] = ['latency-over-time', 'throughput-over-time', 'cpu-over-time', 'errors-over-time', 'distribution-over-time', 'gauge-over-time'];

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
  return kinds.flatMap(([kind, k]) => {
    if (k.names) return k.names(result, design).map((name) => ({ kind, title: k.title(result, name), design: design.name, metric: name, spec: k.spec(result, design, name) }));
    return (k.applies?.(design) ?? true) ? [{ kind, title: k.title(result, ''), design: design.name, spec: k.spec(result, design, '') }] : [];
  });
}

/** Every chart of a run's report: the distribution of all designs, then each design's charts. */
export function reportCharts(result: RunResult): Chart[] {
  return [runDistribution(result), ...result.designs.flatMap((d) => designCharts(result, d))];
}
