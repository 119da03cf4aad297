import { describe, expect, it } from 'vitest';
import { decodeHistogram, mergeEncoded } from './histogram.ts';
import { Recorder } from './recorder.ts';

/** A deterministic spread of latencies (µs) with a slow tail. */
function latencies(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    const u = x / 2147483648;
    return Math.round(u < 0.95 ? 1000 + u * 4000 : 50_000 + u * 400_000);
  });
}

describe('Recorder', () => {
  it('closes one row a second and the rows merge exactly into the totals', () => {
    const r = new Recorder(0);
    const all: number[] = [];
    for (let s = 0; s < 5; s++) {
      for (const v of latencies(1000 + s * 300, s + 1)) {
        r.recordResponse('GET /a', v, undefined, 'pid-1');
        all.push(v);
      }
      r.recordFailure('GET /a', 'timeout');
      r.tick((s + 1) * 1000);
    }
    r.closeWindow(5000);
    const { totals, servedBy } = r.finish();
    expect(r.series).toHaveLength(5);
    expect(totals.ok).toBe(all.length);
    expect(totals.errorsByKind).toEqual({ timeout: 5 });
    expect(servedBy).toEqual({ 'pid-1': all.length });
    expect(totals.throughput).toBeCloseTo(all.length / 5, 1);

    const merged = mergeEncoded(r.series.map((row) => row.histogram));
    const total = decodeHistogram(totals.histogram);
    for (const p of [50, 90, 99, 99.9, 100]) expect(merged.getValueAtPercentile(p)).toBe(total.getValueAtPercentile(p));
    expect(merged.totalCount).toBe(all.length);

    // The merged p99 is the p99 of all samples (to the histogram's 3 significant digits),
    // and differs from the mean of the per-second p99s whenever the seconds differ.
    const sorted = [...all].sort((a, b) => a - b);
    const exact = sorted[Math.ceil(0.99 * sorted.length) - 1]!;
    expect(Math.abs(total.getValueAtPercentile(99) - exact) / exact).toBeLessThan(0.001);
  });

  it('keeps operations apart and adds them up in the row', () => {
    const r = new Recorder(0);
    r.recordResponse('GET /a', 1000, undefined, undefined);
    r.recordResponse('GET /b', 9000, 'http_503', undefined);
    const row = r.tick(1000);
    expect(row.requests).toBe(2);
    expect(row.errorsByKind).toEqual({ http_503: 1 });
    expect(row.operations?.['GET /a']?.ok).toBe(1);
    expect(row.operations?.['GET /b']?.errors).toBe(1);
  });

  it('counts late responses in latency but not in throughput', () => {
    const r = new Recorder(0);
    for (let i = 0; i < 100; i++) r.recordResponse('op', 1000, undefined, undefined);
    r.closeWindow(1000);
    r.recordResponse('op', 3_000_000, undefined, undefined);
    const { totals, lateResponses } = r.finish();
    expect(totals.requests).toBe(101);
    expect(totals.throughput).toBe(100);
    expect(lateResponses).toBe(1);
    expect(totals.latencyUs.max).toBeGreaterThanOrEqual(2_990_000);
    expect(r.series).toHaveLength(1);
  });

  it('keeps each closed second as a compact row that does not grow with the run', () => {
    const r = new Recorder(0);
    const v = latencies(200, 7);
    const meanRowBytesAfter = (seconds: number) => {
      for (let s = 0; s < seconds; s++) {
        for (const x of v) r.recordResponse('op', x, undefined, undefined);
        r.tick(performance.now());
      }
      return r.series.reduce((n, row) => n + row.histogram.length, 0) / r.series.length;
    };
    const early = meanRowBytesAfter(10);
    const later = meanRowBytesAfter(500);
    // Each closed second keeps only its compressed histogram, whose size does not grow with time.
    expect(later).toBeLessThan(early * 1.5);
    expect(later).toBeLessThan(2000);
  });
});
