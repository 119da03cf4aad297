import type { DesignResult, RunResult } from '../../harness/result/result.ts';
import type { LayeredSpec } from './chart.ts';
import { percentilesOverTime, type LatencySecond } from './latency-over-time.ts';

/**
 * Percentiles over time of one named distribution of a design (`e2e`, `publish`), from each
 * second's `distributions`, with every fault window shaded; seconds without a value have no point.
 */
export function distributionOverTime(result: RunResult, design: DesignResult, name: string): LayeredSpec {
  const rows: LatencySecond[] = design.series.flatMap((row) => {
    const d = row.distributions?.[name];
    return d && d.count > 0 ? [{ second: row.second, latencyUs: d.latencyUs }] : [];
  });
  return percentilesOverTime(result, design, rows, name, 'distribution');
}
