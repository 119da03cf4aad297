import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { decodeHistogram, mergeEncoded } from './histogram.ts';
import { mergeRows, MetricSink } from './sink.ts';

/** A deterministic spread of latencies (µs) with a slow tail. */
function latencies(n: number, seed: number): number[] {
  let x = seed;
  return Array.from({ length: n }, () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    const u = x / 2147483648;
    return Math.round(u < 0.95 ? 1000 + u * 4000 : 50_000 + u * 400_000);
  });
}

const sinkAt = (windowStartMs: number, historyFile?: string) => new MetricSink({ windowStartMs, lateThresholdMs: 10, ...(historyFile ? { historyFile } : {}) });

describe('MetricSink', () => {
  it('closes one row a second and the rows merge exactly into the totals', () => {
    const r = sinkAt(0);
    const all: number[] = [];
    for (let s = 0; s < 5; s++) {
      for (const v of latencies(1000 + s * 300, s + 1)) {
        r.op('GET /a', s * 1000, v, 'ok');
        r.tally('served_by', 'pid-1', s * 1000);
        all.push(v);
      }
      r.failed('GET /a', s * 1000, 'timeout');
      r.tick((s + 1) * 1000);
    }
    r.closeWindow(5000);
    const { totals, tallies, series } = r.finish();
    expect(series).toHaveLength(5);
    expect(totals.ok).toBe(all.length);
    expect(totals.errorsByKind).toEqual({ timeout: 5 });
    expect(tallies).toEqual({ served_by: { 'pid-1': all.length } });
    expect(totals.throughput).toBeCloseTo(all.length / 5, 1);

    const merged = mergeEncoded(series.map((row) => row.histogram));
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
    const r = sinkAt(0);
    r.op('GET /a', 0, 1000, 'ok');
    r.op('GET /b', 0, 9000, 'http_503');
    const row = r.tick(1000);
    expect(row.ops).toBe(2);
    expect(row.errorsByKind).toEqual({ http_503: 1 });
    expect(row.byOperation?.['GET /a']?.ok).toBe(1);
    expect(row.byOperation?.['GET /b']?.errors).toBe(1);
  });

  it('cuts warm-up by time: nothing due before the window counts, whatever arrives when', () => {
    const r = sinkAt(1000);
    r.op('op', 999, 5000, 'ok');
    r.value('e2e', 999, 5000);
    r.count('consumed', 999);
    r.tally('served_by', 'b1', 999);
    r.sent(999, 0);
    r.op('op', 1000, 2000, 'ok');
    r.value('e2e', 1000, 7000);
    r.count('consumed', 1500, 3);
    r.tally('served_by', 'b2', 1500);
    r.sent(1000, 50);
    r.tick(2000);
    const s = r.finish();
    expect(s.totals.ops).toBe(1);
    expect(s.totals.latencyUs.max).toBeLessThan(2100);
    expect(s.distributions.e2e?.count).toBe(1);
    expect(s.counters).toEqual({ consumed: 3 });
    expect(s.tallies).toEqual({ served_by: { b2: 1 } });
    expect(s.sends).toEqual({ sent: 1, late: 1, dropped: 0, maxLagMs: 50 });
  });

  it('counts late answers in latency, errors and distributions but not in throughput or any second', () => {
    const r = sinkAt(0);
    for (let i = 0; i < 100; i++) r.op('op', 0, 1000, 'ok');
    r.closeWindow(1000);
    r.op('op', 900, 3_000_000, 'ok');
    r.value('e2e', 900, 2_000_000);
    r.count('consumed', 900);
    const s = r.finish();
    expect(s.totals.ops).toBe(101);
    expect(s.totals.throughput).toBe(100);
    expect(s.lateResponses).toBe(1);
    expect(s.totals.latencyUs.max).toBeGreaterThanOrEqual(2_990_000);
    expect(s.distributions.e2e?.count).toBe(1);
    expect(s.counters.consumed).toBe(1);
    expect(s.series).toHaveLength(1);
  });

  it('puts an operation in the second it was due, settling that second\'s row in place when its answer comes', () => {
    const r = new MetricSink({ windowStartMs: 0, lateThresholdMs: 10, settleMs: 3000 });
    r.op('op', 100, 1000, 'ok');
    const first = r.tick(1000);
    expect(first.ops).toBe(1);
    // Due in second 1, failing three seconds later: it belongs to second 1, not to second 4.
    r.tick(2000);
    r.tick(3000);
    r.tick(4000);
    r.op('op', 1500, 3_000_000, 'http_503');
    const rows = [first, ...r.series.slice(1)];
    expect(r.tick(5000).errors).toBe(0);
    expect(rows[1]).toBe(r.series[1]);
    expect(r.series[1]).toMatchObject({ second: 1, ops: 1, errors: 1, errorsByKind: { http_503: 1 } });
    // Seconds settle settleMs after they end: an answer later still is in the totals only.
    r.op('op', 200, 9_000_000, 'timeout');
    const s = r.finish();
    expect(s.unsettled).toBe(1);
    expect(s.series.map((row) => row.ops)).toEqual([1, 1, 0, 0, 0]);
    expect(s.totals.ops).toBe(3);
    expect(s.totals.errorsByKind).toEqual({ http_503: 1, timeout: 1 });
  });

  it('samples gauges at every second and summarises them', () => {
    const r = sinkAt(0);
    let depth = 0;
    r.gauge('lag', () => (depth += 10));
    r.gauge('skipped', () => undefined);
    const rows = [1, 2, 3].map((s) => r.tick(s * 1000));
    expect(rows.map((row) => row.gauges)).toEqual([{ lag: 10 }, { lag: 20 }, { lag: 30 }]);
    expect(r.finish().gauges).toEqual({ lag: { samples: 3, min: 10, max: 30, mean: 20, last: 30 } });
  });

  it('writes history to disk, warm-up included, with times relative to the window', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-sink-'));
    try {
      const file = join(dir, 'h.jsonl');
      const r = sinkAt(1000, file);
      r.history(500, { ev: 'ack', s: 1 });
      for (let i = 0; i < 20_000; i++) r.history(1000 + i / 10, { ev: 'recv', s: i });
      r.finish();
      const lines = (await readFile(file, 'utf8')).trim().split('\n').map((l) => JSON.parse(l) as { t: number; ev: string; s: number });
      expect(lines).toHaveLength(20_001);
      expect(lines[0]).toEqual({ t: -500, ev: 'ack', s: 1 });
      expect(lines[20_000]).toEqual({ t: 1999.9, ev: 'recv', s: 19_999 });
      expect(r.historyRecords).toBe(20_001);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('merges rows: histograms and distributions exactly, counts summed, gauges at their largest', () => {
    const r = sinkAt(0);
    let lag = 0;
    r.gauge('lag', () => [5, 50, 7][lag++]);
    for (let s = 0; s < 3; s++) {
      for (const v of latencies(100, s + 1)) {
        r.op('op', s * 1000, v, 'ok');
        r.value('e2e', s * 1000, v * 2);
      }
      r.count('consumed', s * 1000, 100);
      r.tally('served_by', `b${s}`, s * 1000, 100);
      r.tick((s + 1) * 1000);
    }
    const merged = mergeRows(r.series, 3);
    const s = r.finish();
    expect(merged.ops).toBe(300);
    // Percentiles match exactly; max is read back from a decoded histogram, so it is the top of its bucket.
    const percentiles = (l: { p50: number; p90: number; p99: number; p999: number } | undefined) => l && [l.p50, l.p90, l.p99, l.p999];
    expect(percentiles(merged.latencyUs)).toEqual(percentiles(s.totals.latencyUs));
    expect(percentiles(merged.distributions.e2e?.latencyUs)).toEqual(percentiles(s.distributions.e2e?.latencyUs));
    expect(merged.distributions.e2e?.count).toBe(300);
    expect(merged.counters).toEqual({ consumed: 300 });
    expect(merged.tallies).toEqual({ served_by: { b0: 100, b1: 100, b2: 100 } });
    expect(merged.gauges).toEqual({ lag: 50 });
  });

  it('keeps each closed second as a compact row that does not grow with the run', () => {
    const r = sinkAt(0);
    const v = latencies(200, 7);
    const meanRowBytesAfter = (seconds: number) => {
      for (let s = 0; s < seconds; s++) {
        for (const x of v) r.op('op', 0, x, 'ok');
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
