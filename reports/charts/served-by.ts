import type { DesignResult, Wording } from '../../harness/result/result.ts';
import { layered, type LayeredSpec } from './chart.ts';

/** Operations answered by each process or backend of one design: the `served_by` tally (HTTP: the `x-served-by` header). */
export function servedBy(design: DesignResult, wording: Wording): LayeredSpec {
  const values = Object.entries(design.tallies.served_by ?? {}).map(([backend, n]) => ({ backend, n }));
  return layered([
    {
      name: 'served_by',
      data: { values },
      mark: { type: 'bar', color: '#3b8ede', tooltip: true, cornerRadiusEnd: 2 },
      encoding: {
        y: { field: 'backend', type: 'nominal', sort: '-x', title: 'answered by' },
        x: { field: 'n', type: 'quantitative', title: wording.many },
        tooltip: [{ field: 'backend', title: 'answered by' }, { field: 'n', title: wording.many, format: ',d' }],
      },
    },
  ], { height: Math.max(60, 26 * values.length) });
}
