import type { DesignResult, RunResult, SlaUnit } from '../../harness/result/result.ts';
import { gaugeUnit } from '../named-metrics.ts';
import { faultBandLayers, layered, timeAxis, timeLine, windowSeconds, type LayeredSpec } from './chart.ts';

/** How a gauge's values are drawn: latencies in ms, fractions in %, bytes in MB, the rest as they are. */
const scales: Record<SlaUnit, { factor: number; suffix: string }> = {
  latency: { factor: 1 / 1000, suffix: ' (ms)' },
  fraction: { factor: 100, suffix: ' (%)' },
  'per-second': { factor: 1, suffix: ' (/s)' },
  count: { factor: 1, suffix: '' },
  bytes: { factor: 1 / 2 ** 20, suffix: ' (MB)' },
};

/**
 * One gauge of a design (consumer lag, queue depth) as sampled at the end of each measured
 * second, from zero up, with every fault window shaded. Seconds without a sample have no point.
 */
export function gaugeOverTime(result: RunResult, design: DesignResult, name: string): LayeredSpec {
  const seconds = windowSeconds(result, design);
  const { factor, suffix } = scales[gaugeUnit(result, name)];
  const values = design.series.flatMap((row) => {
    const v = row.gauges?.[name];
    return v === undefined ? [] : [{ t: row.second + 1, v: v * factor }];
  });
  return layered([
    ...faultBandLayers(design.faults, seconds),
    {
      name: 'gauge',
      data: { values },
      mark: timeLine(seconds, { color: '#7048e8' }),
      encoding: {
        x: timeAxis(seconds),
        y: { field: 'v', type: 'quantitative', title: `${name}${suffix}`, scale: { domainMin: 0 } },
        tooltip: [{ field: 't', title: 'second', format: '.1f' }, { field: 'v', title: `${name}${suffix}`, format: ',.4~r' }],
      },
    },
  ]);
}
