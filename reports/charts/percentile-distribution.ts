import { decodeHistogram } from '../../harness/metrics/histogram.ts';
import { layered, type LayeredSpec } from './chart.ts';

/** One curve of the distribution chart: a name and the merged histogram it is drawn from. */
export interface DistributionCurve {
  name: string;
  /** An encoded HDR histogram (`WindowStats.histogram`). */
  histogram: string;
}

/** The highest percentile drawn: p99.99, i.e. four nines. */
export const MAX_NINES = 4;
const STEP = 0.05;

/** Percentile → "nines": 90 → 1, 99 → 2, 99.9 → 3. The x axis is linear in nines, so each tail decade gets equal room. */
export function nines(percentile: number): number {
  return -Math.log10(1 - percentile / 100);
}

/**
 * Latency at every percentile from p0 to p99.99 (x on a "nines" scale), one curve per entry,
 * overlaid. Values come from the exact merged histograms, never from averaged percentiles.
 * Entries with an empty histogram have no curve.
 */
export function percentileDistribution(curves: readonly DistributionCurve[]): LayeredSpec {
  const values: { name: string; nines: number; p: number; ms: number }[] = [];
  for (const c of curves) {
    if (c.histogram === '') continue;
    const h = decodeHistogram(c.histogram);
    if (h.totalCount > 0) {
      for (let i = 0; i <= MAX_NINES / STEP; i++) {
        const k = i * STEP;
        const p = 100 * (1 - 10 ** -k);
        values.push({ name: c.name, nines: +k.toFixed(2), p: +p.toPrecision(6), ms: Math.max(h.getValueAtPercentile(p), 1) / 1000 });
      }
    }
    h.destroy();
  }
  return layered([
    {
      name: 'distribution',
      data: { values },
      mark: { type: 'line', strokeWidth: 2, tooltip: true },
      encoding: {
        x: {
          field: 'nines',
          type: 'quantitative',
          title: 'percentile',
          scale: { domain: [0, MAX_NINES], nice: false },
          axis: { values: [0, nines(50), 1, 2, 3, 4], labelExpr: "'p' + format(100 - 100 * pow(10, -datum.value), '.6~r')" },
        },
        y: { field: 'ms', type: 'quantitative', title: 'latency (ms, log scale)', scale: { type: 'log' } },
        color: { field: 'name', type: 'nominal', title: null, scale: { scheme: 'category10', domain: curves.map((c) => c.name) } },
        tooltip: [{ field: 'name', title: 'design' }, { field: 'p', title: 'percentile' }, { field: 'ms', title: 'latency (ms)', format: ',.3~f' }],
      },
    },
  ]);
}
