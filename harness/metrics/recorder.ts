import type { LatencyFigures, SecondStats, WindowStats } from '../result/result.ts';
import { encodeHistogram, mergeEncoded, newHistogram, summarize, type Histogram } from './histogram.ts';

function increment(counts: Map<string, number>, key: string, n = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

function addCounts(into: Map<string, number>, from: ReadonlyMap<string, number>): void {
  for (const [k, n] of from) increment(into, k, n);
}

class OperationInterval {
  readonly histogram = newHistogram();
  ok = 0;
  errorsByKind = new Map<string, number>();

  reset(): void {
    this.histogram.reset();
    this.ok = 0;
    this.errorsByKind.clear();
  }
}

class OperationTotals {
  readonly histogram = newHistogram();
  ok = 0;
  errorsByKind = new Map<string, number>();

  add(interval: OperationInterval): void {
    this.histogram.add(interval.histogram);
    this.ok += interval.ok;
    addCounts(this.errorsByKind, interval.errorsByKind);
  }
}

/**
 * Records operations of one design's measured window: per operation, one HDR histogram for the
 * current second and one for the total, plus counters. At every `tick()` the second is closed
 * into a compact row (figures plus the encoded histogram) and its histograms are reset, so
 * memory holds a fixed number of histograms however long the run, plus one small row a second.
 */
export class Recorder {
  private readonly intervals = new Map<string, OperationInterval>();
  private readonly totals = new Map<string, OperationTotals>();
  private readonly scratch = newHistogram();
  private intervalServedBy = new Map<string, number>();
  private readonly totalServedBy = new Map<string, number>();
  private readonly rows: SecondStats[] = [];
  private intervalStartMs: number;
  private readonly windowStartMs: number;

  /** @param nowMs the start of the measured window on the `performance.now()` clock. */
  constructor(nowMs: number) {
    this.windowStartMs = nowMs;
    this.intervalStartMs = nowMs;
  }

  private interval(op: string): OperationInterval {
    let i = this.intervals.get(op);
    if (!i) {
      i = new OperationInterval();
      this.intervals.set(op, i);
      this.totals.set(op, new OperationTotals());
    }
    return i;
  }

  /** A response arrived. `latencyUs` is measured from the intended send time. */
  recordResponse(op: string, latencyUs: number, errorKind: string | undefined, servedBy: string | undefined): void {
    const i = this.interval(op);
    i.histogram.recordValue(latencyUs < 1 ? 1 : latencyUs);
    if (errorKind === undefined) i.ok++;
    else increment(i.errorsByKind, errorKind);
    if (servedBy !== undefined) increment(this.intervalServedBy, servedBy);
  }

  /** Sends made in this window, and how the generator kept to its schedule (open model). */
  readonly sends = { sent: 0, dropped: 0, late: 0, maxLagMs: 0 };
  private intervalSends = { sent: 0, dropped: 0, late: 0 };

  /** A send left the generator `lagMs` after its intended time. */
  noteSend(lagMs: number, lateThresholdMs: number): void {
    this.intervalSends.sent++;
    if (lagMs > lateThresholdMs) this.intervalSends.late++;
    if (lagMs > this.sends.maxLagMs) this.sends.maxLagMs = lagMs;
  }

  /** A send was skipped: the in-flight cap was reached. */
  noteDropped(): void {
    this.intervalSends.dropped++;
  }

  private intervalKeys = new Map<string, string>();
  private readonly keyRows: Map<string, string>[] = [];

  /** Key `key` was served by `servedBy` (workloads with keys). The last answer in a second counts. */
  recordKey(key: string, servedBy: string): void {
    this.intervalKeys.set(key, servedBy);
  }

  /** Per closed second, which backend served each key seen in it (empty for workloads without keys). */
  get keySeconds(): readonly ReadonlyMap<string, string>[] {
    return this.keyRows;
  }

  /** The operation failed without a response (timeout, refused, reset, …). */
  recordFailure(op: string, errorKind: string): void {
    increment(this.interval(op).errorsByKind, errorKind);
  }

  /** Closes the current second and returns its row. */
  tick(nowMs: number): SecondStats {
    const seconds = Math.max((nowMs - this.intervalStartMs) / 1000, 1e-3);
    const row = this.closeInterval(this.rows.length, seconds);
    this.rows.push(row);
    this.intervalStartMs = nowMs;
    return row;
  }

  private closeInterval(second: number, seconds: number): SecondStats {
    const ops: Record<string, WindowStats> = {};
    const scratch = this.scratch;
    scratch.reset();
    let ok = 0;
    const errorsByKind = new Map<string, number>();
    for (const [op, i] of this.intervals) {
      ops[op] = windowStats(i.histogram, i.ok, i.errorsByKind, seconds);
      scratch.add(i.histogram);
      ok += i.ok;
      addCounts(errorsByKind, i.errorsByKind);
      this.totals.get(op)!.add(i);
      i.reset();
    }
    this.keyRows.push(this.intervalKeys);
    this.intervalKeys = new Map();
    const sends = this.intervalSends;
    this.sends.sent += sends.sent;
    this.sends.late += sends.late;
    this.sends.dropped += sends.dropped;
    this.intervalSends = { sent: 0, dropped: 0, late: 0 };
    const row: SecondStats = { second, ...windowStats(scratch, ok, errorsByKind, seconds), ...sends };
    if (this.intervals.size > 1) row.operations = ops;
    if (this.intervalServedBy.size > 0) {
      row.servedBy = Object.fromEntries(this.intervalServedBy);
      addCounts(this.totalServedBy, this.intervalServedBy);
      this.intervalServedBy = new Map();
    }
    return row;
  }

  /** The rows closed so far. */
  get series(): readonly SecondStats[] {
    return this.rows;
  }

  private windowEndMs: number | undefined;
  private okInWindow = 0;

  /**
   * Closes the measured window at `windowEndMs`: the last (possibly partial) second becomes a
   * row. Responses that arrive after it (requests sent inside the window, still in flight)
   * keep being recorded until `finish()`: they count in latency and errors, not in throughput.
   */
  closeWindow(windowEndMs: number): void {
    if (this.windowEndMs !== undefined) return;
    if (windowEndMs > this.intervalStartMs + 1) this.rows.push(this.closeInterval(this.rows.length, (windowEndMs - this.intervalStartMs) / 1000));
    this.windowEndMs = windowEndMs;
    for (const t of this.totals.values()) this.okInWindow += t.ok;
  }

  /** Folds late responses into the totals and returns the window's figures. Call after the driver drained. */
  finish(): { totals: WindowStats; operations: Record<string, WindowStats>; servedBy: Record<string, number>; lateResponses: number } {
    const windowEndMs = this.windowEndMs ?? performance.now();
    this.closeWindow(windowEndMs);
    const late = this.closeInterval(this.rows.length, 1);
    const seconds = Math.max((windowEndMs - this.windowStartMs) / 1000, 1e-3);
    const operations: Record<string, WindowStats> = {};
    const all = newHistogram();
    const errorsByKind = new Map<string, number>();
    let ok = 0;
    for (const [op, t] of this.totals) {
      operations[op] = windowStats(t.histogram, t.ok, t.errorsByKind, seconds);
      all.add(t.histogram);
      ok += t.ok;
      addCounts(errorsByKind, t.errorsByKind);
    }
    const totals = windowStats(all, ok, errorsByKind, seconds);
    // Throughput is what completed inside the window; late responses are not work it did.
    totals.throughput = Math.round((this.okInWindow / seconds) * 10) / 10;
    return { totals, operations, servedBy: Object.fromEntries(this.totalServedBy), lateResponses: late.requests };
  }
}

/** Adds rows (seconds) into one window's figures: histograms merged exactly, counts summed. */
export function mergeRows(rows: readonly SecondStats[], seconds: number): WindowStats & { sent: number; late: number; dropped: number; servedBy: Record<string, number> } {
  const errorsByKind = new Map<string, number>();
  const servedBy = new Map<string, number>();
  let ok = 0;
  const sends = { sent: 0, late: 0, dropped: 0 };
  for (const r of rows) {
    ok += r.ok;
    addCounts(errorsByKind, new Map(Object.entries(r.errorsByKind)));
    addCounts(servedBy, new Map(Object.entries(r.servedBy ?? {})));
    sends.sent += r.sent ?? 0;
    sends.late += r.late ?? 0;
    sends.dropped += r.dropped ?? 0;
  }
  const h = mergeEncoded(rows.map((r) => r.histogram));
  const stats = windowStats(h, ok, errorsByKind, seconds);
  h.destroy();
  return { ...stats, ...sends, servedBy: Object.fromEntries(servedBy) };
}

/** Figures of one window from its histogram and counters. */
export function windowStats(h: Histogram, ok: number, errorsByKind: ReadonlyMap<string, number>, seconds: number): WindowStats {
  let errors = 0;
  for (const n of errorsByKind.values()) errors += n;
  const s = summarize(h);
  const latencyUs: LatencyFigures = { min: s.min, mean: s.mean, p50: s.p50, p90: s.p90, p99: s.p99, p999: s.p999, max: s.max };
  return {
    requests: ok + errors,
    ok,
    errors,
    errorsByKind: Object.fromEntries(errorsByKind),
    throughput: Math.round((ok / seconds) * 10) / 10,
    latencyUs,
    histogram: encodeHistogram(h),
  };
}
