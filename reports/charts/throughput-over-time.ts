import type { DesignResult, RunResult } from '../../harness/result/result.ts';
import { faultBandLayers, layered, timeAxis, timeLine, windowSeconds, type Layer, type LayeredSpec } from './chart.ts';

/**
 * Successful operations per second of one design, with the open model's target rate as a dashed
 * line when there is one, and every fault window shaded.
 */
export function throughputOverTime(result: RunResult, design: DesignResult): LayeredSpec {
  const seconds = windowSeconds(result, design);
  const values = design.series.map((row) => ({ t: row.second + 0.5, ok: row.throughput }));
  const target: Layer[] = design.load.targetRate === undefined
    ? []
    : [{
        name: 'target_rate',
        mark: { type: 'rule', strokeDash: [4, 4], color: '#868e96' },
        encoding: { y: { datum: design.load.targetRate }, tooltip: { value: `target rate ${design.load.targetRate}/s` } },
      }];
  return layered([
    ...faultBandLayers(design.faults, seconds),
    ...target,
    {
      name: 'throughput',
      data: { values },
      mark: timeLine(seconds, { color: '#3b8ede' }),
      encoding: {
        x: timeAxis(seconds),
        y: { field: 'ok', type: 'quantitative', title: `successful ${result.scenario.wording.many} per second` },
        tooltip: [{ field: 't', title: 'second', format: '.1f' }, { field: 'ok', title: 'ok/s', format: ',.1f' }],
      },
    },
  ]);
}
