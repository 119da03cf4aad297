import type { DesignResult, RunResult } from '../../harness/result/result.ts';
import { faultBandLayers, layered, timeAxis, timeLine, windowSeconds, type LayeredSpec } from './chart.ts';

const percentiles = ['p50', 'p90', 'p99', 'p999'] as const;

/**
 * Latency percentiles (p50, p90, p99, p99.9) of each measured second of one design, on a log
 * scale so a queue that grows from milliseconds to seconds stays readable, with every fault
 * window shaded. Seconds without a response have no point.
 */
export function latencyOverTime(result: RunResult, design: DesignResult): LayeredSpec {
  const seconds = windowSeconds(result, design);
  const values = design.series
    .filter((row) => row.latencyUs.max > 0)
    .map((row) => ({ t: row.second + 0.5, ...Object.fromEntries(percentiles.map((p) => [p, row.latencyUs[p] / 1000])) }));
  return layered([
    ...faultBandLayers(design.faults, seconds),
    {
      name: 'latency',
      data: { values },
      transform: [{ fold: [...percentiles], as: ['percentile', 'ms'] }],
      mark: timeLine(seconds),
      encoding: {
        x: timeAxis(seconds),
        y: { field: 'ms', type: 'quantitative', title: 'latency (ms, log scale)', scale: { type: 'log' } },
        color: {
          field: 'percentile',
          type: 'nominal',
          scale: { domain: [...percentiles], range: ['#3b8ede', '#2f9e44', '#e8590c', '#c2255c'] },
          legend: { title: null, labelExpr: "datum.label == 'p999' ? 'p99.9' : datum.label" },
        },
        tooltip: [
          { field: 't', title: 'second', format: '.1f' },
          { field: 'percentile' },
          { field: 'ms', title: 'latency (ms)', format: ',.3~f' },
        ],
      },
    },
  ]);
}
