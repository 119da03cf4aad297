import type { DesignResult, RunResult } from '../../harness/result/result.ts';
import { faultBandLayers, layered, timeAxis, timeLine, windowSeconds, type LayeredSpec } from './chart.ts';

/** The series shown when a design had no error at all: a line at zero says so plainly. */
export const NO_ERRORS = 'no errors';

/**
 * Failed operations (in the workload's wording) in each measured second of one design, one line per error kind (every kind
 * seen in the window, zero where absent), with every fault window shaded.
 */
export function errorsOverTime(result: RunResult, design: DesignResult): LayeredSpec {
  const seconds = windowSeconds(result, design);
  const kinds = [...new Set([...Object.keys(design.totals.errorsByKind), ...design.series.flatMap((row) => Object.keys(row.errorsByKind))])].sort();
  const shown = kinds.length > 0 ? kinds : [NO_ERRORS];
  const values = design.series.flatMap((row) => shown.map((kind) => ({ t: row.second + 0.5, kind, n: row.errorsByKind[kind] ?? 0 })));
  return layered([
    ...faultBandLayers(design.faults, seconds),
    {
      name: 'errors',
      data: { values },
      mark: timeLine(seconds),
      encoding: {
        x: timeAxis(seconds),
        // At least 0–1, so a window without errors shows a flat line at zero rather than a collapsed axis.
        y: { field: 'n', type: 'quantitative', title: `failed ${result.scenario.wording.many} per second`, scale: { domain: [0, values.reduce((m, v) => Math.max(m, v.n), 1)] }, axis: { tickMinStep: 1, format: ',d' } },
        color: { field: 'kind', type: 'nominal', title: null, scale: { scheme: 'category10' } },
        tooltip: [{ field: 't', title: 'second', format: '.1f' }, { field: 'kind' }, { field: 'n', title: 'failed' }],
      },
    },
  ]);
}
