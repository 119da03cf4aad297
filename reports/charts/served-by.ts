import type { DesignResult } from '../../harness/result/result.ts';
import { layered, type LayeredSpec } from './chart.ts';

/** Requests answered by each process or backend of one design (from the `x-served-by` header). */
export function servedBy(design: DesignResult): LayeredSpec {
  const values = Object.entries(design.servedBy).map(([backend, requests]) => ({ backend, requests }));
  return layered([
    {
      name: 'served_by',
      data: { values },
      mark: { type: 'bar', color: '#3b8ede', tooltip: true, cornerRadiusEnd: 2 },
      encoding: {
        y: { field: 'backend', type: 'nominal', sort: '-x', title: 'answered by' },
        x: { field: 'requests', type: 'quantitative', title: 'requests' },
        tooltip: [{ field: 'backend', title: 'answered by' }, { field: 'requests', format: ',d' }],
      },
    },
  ], { height: Math.max(60, 26 * values.length) });
}
