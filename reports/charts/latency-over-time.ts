import type { DesignResult, LatencyFigures, RunResult } from '../../harness/result/result.ts';
import { faultBandLayers, layered, timeAxis, timeLine, windowSeconds, type LayeredSpec } from './chart.ts';

const percentiles = ['p50', 'p90', 'p99', 'p999'] as const;

/** One second's latency figures, for a percentiles-over-time chart. */
export interface LatencySecond {
  second: number;
  latencyUs: LatencyFigures;
}

/**
 * Percentiles (p50, p90, p99, p99.9) of each second on a log scale, so a queue that grows from
 * milliseconds to seconds stays readable, with every fault window of the design shaded. Seconds
 * without a value have no point. `what` names the values on the y axis (`latency`, `e2e`).
 */
export function percentilesOverTime(result: RunResult, design: DesignResult, rows: readonly LatencySecond[], what: string, layerName: string): LayeredSpec {
  const seconds = windowSeconds(result, design);
  const values = rows
    .filter((row) => row.latencyUs.max > 0)
    .map((row) => ({ t: row.second + 0.5, ...Object.fromEntries(percentiles.map((p) => [p, row.latencyUs[p] / 1000])) }));
  return layered([
    ...faultBandLayers(design.faults, seconds),
    {
      name: layerName,
      data: { values },
      transform: [{ fold: [...percentiles], as: ['percentile', 'ms'] }],
      mark: timeLine(seconds),
      encoding: {
        x: timeAxis(seconds),
        y: { field: 'ms', type: 'quantitative', title: `${what} (ms, log scale)`, scale: { type: 'log' } },
        color: {
          field: 'percentile',
          type: 'nominal',
          scale: { domain: [...percentiles], range: ['#3b8ede', '#2f9e44', '#e8590c', '#c2255c'] },
          legend: { title: null, labelExpr: "datum.label == 'p999' ? 'p99.9' : datum.label" },
        },
        tooltip: [
          { field: 't', title: 'second', format: '.1f' },
          { field: 'percentile' },
          { field: 'ms', title: `${what} (ms)`, format: ',.3~f' },
        ],
      },
    },
  ]);
}

/** Latency percentiles of each measured second of one design's operations (see `percentilesOverTime`). */
export function latencyOverTime(result: RunResult, design: DesignResult): LayeredSpec {
  return percentilesOverTime(result, design, design.series, 'latency', 'latency');
}
