import { closeSync, openSync, writeSync } from 'node:fs';
import type { DesignResult, DistributionStats, GaugeStats, LatencyFigures, SecondStats, WindowStats } from '../result/result.ts';
import { encodeHistogram, mergeEncoded, newHistogram, summarize, type Histogram } from './histogram.ts';

function increment(counts: Map<string, number>, key: string, n = 1): void {
  counts.set(key, (counts.get(key) ?? 0) + n);
}

function addCounts(into: Map<string, number>, from: ReadonlyMap<string, number> | Record<string, number>): void {
  for (const [k, n] of from instanceof Map ? from : Object.entries(from)) increment(into, k, n);
}

/** Outcome of one operation: `ok`, or the error kind the driver declared (`timeout`, `http_503`). */
export type Outcome = 'ok' | (string & {});

/** Operations of one name over an interval: latency histogram, successes, errors by kind. */
class Ops {
  readonly histogram = newHistogram();
  ok = 0;
  readonly errorsByKind = new Map<string, number>();

  add(other: Ops): void {
    this.histogram.add(other.histogram);
    this.ok += other.ok;
    addCounts(this.errorsByKind, other.errorsByKind);
  }

  destroy(): void {
    this.histogram.destroy();
  }
}

/** Everything recorded in one interval (a second) or accumulated over the window. */
class Bucket {
  readonly ops = new Map<string, Ops>();
  readonly distributions = new Map<string, Histogram>();
  readonly counters = new Map<string, number>();
  readonly tallies = new Map<string, Map<string, number>>();
  readonly sends = { sent: 0, late: 0, dropped: 0 };

  opsOf(name: string): Ops {
    let o = this.ops.get(name);
    if (!o) this.ops.set(name, (o = new Ops()));
    return o;
  }

  distribution(name: string): Histogram {
    let h = this.distributions.get(name);
    if (!h) this.distributions.set(name, (h = newHistogram()));
    return h;
  }

  tally(name: string): Map<string, number> {
    let t = this.tallies.get(name);
    if (!t) this.tallies.set(name, (t = new Map()));
    return t;
  }

  /** Adds another bucket into this one: histograms merged exactly, counts summed. */
  add(b: Bucket): void {
    for (const [name, o] of b.ops) this.opsOf(name).add(o);
    for (const [name, h] of b.distributions) this.distribution(name).add(h);
    addCounts(this.counters, b.counters);
    for (const [name, t] of b.tallies) addCounts(this.tally(name), t);
    this.sends.sent += b.sends.sent;
    this.sends.late += b.sends.late;
    this.sends.dropped += b.sends.dropped;
  }

  destroy(): void {
    for (const o of this.ops.values()) o.destroy();
    for (const h of this.distributions.values()) h.destroy();
  }
}

/** One record of a design's history, as a checker reads it back: `t` is ms since the window began (negative in warm-up). */
export interface HistoryRecord {
  t: number;
  [field: string]: unknown;
}

/** How often buffered history lines are written out (bytes): large enough to be cheap, small enough to keep memory flat. */
const HISTORY_FLUSH_BYTES = 256 * 1024;

/** How long after its second ends a row stays open for operations due in it that answer late (ms). */
const DEFAULT_SETTLE_MS = 15_000;

/** The distribution of each open-model send's lag behind its intended time, recorded by the pacer (µs). */
export const SEND_LAG = 'send_lag';

export interface SinkOptions {
  /** The start of the measured window on the `performance.now()` clock. */
  windowStartMs: number;
  /** Where history records go, one JSON object a line; without it the sink keeps no history. */
  historyFile?: string;
  /** A send dispatched more than this after its intended time counts as late (ms). */
  lateThresholdMs: number;
  /**
   * How long a second's row stays open after the second ends, for operations due in it that
   * answer late (ms; default 15 s: longer than the usual operation timeout). An answer later
   * still counts in the totals only, and in `unsettled`.
   */
  settleMs?: number;
}

/** The window's figures once the sink is finished. */
export interface SinkSummary extends Pick<DesignResult, 'totals' | 'byOperation' | 'distributions' | 'counters' | 'tallies' | 'gauges' | 'series'> {
  sends: { sent: number; late: number; dropped: number; maxLagMs: number };
  /** Operations sent inside the window that completed after it closed. */
  lateResponses: number;
  /** Operations that answered after their second's row had settled: in the totals, in no row. */
  unsettled: number;
}

/** One second of the window while it is open: what was due in it so far, and its row once shown. */
interface OpenSecond {
  bucket: Bucket;
  /** The row handed out at the second's end (the live line's); settled in place later. */
  row?: SecondStats;
  /** The second's length (s): 1, or less for the window's last, partial one. */
  seconds: number;
}

/**
 * Where every driver records, whatever its protocol: operations (name, intended time, latency
 * in µs, outcome), named distributions (`e2e`, `publish`, `send_lag`), counters, tallies (who
 * served what), gauges sampled each second (consumer lag, queue depth), and an append-only
 * history spilled to disk for checkers.
 *
 * Everything belongs to the second it was due: an operation to the second of its intended send
 * time, wherever its answer lands, so a request sent just after a fault that fails seconds later
 * counts against the second it was sent in. `tick()` closes a second and returns its row as
 * known so far (for the live line); the same row object is settled in place once the answers
 * due in it are in (after `settleMs`, or when the sink finishes). Memory holds the open seconds'
 * histograms and one compact row a second, however long the run.
 *
 * Warm-up is cut by time: anything due before the window's start is not recorded (history
 * keeps it, with a negative time, because correctness counts every message). After
 * `closeWindow()`, answers still arriving (sent in the window, answered after it, or consumed in
 * the drain) count in their seconds, latency, errors, distributions and counters; throughput is
 * what completed inside the window.
 */
export class MetricSink {
  windowStartMs: number;
  private readonly lateThresholdMs: number;
  private readonly settleSeconds: number;
  private readonly open = new Map<number, OpenSecond>();
  private readonly total = new Bucket();
  private readonly rows: SecondStats[] = [];
  private readonly gaugeReaders = new Map<string, () => number | undefined>();
  private readonly gaugeSamples = new Map<string, number[]>();
  private lastTickMs: number;
  private windowEndMs: number | undefined;
  private okCompletedInWindow = 0;
  private lateResponses = 0;
  private unsettled = 0;
  private maxLagMs = 0;
  private historyFd: number | undefined;
  private historyBuffer: string[] = [];
  private historyBytes = 0;
  /** Records written to the history so far. */
  historyRecords = 0;

  constructor(opts: SinkOptions) {
    this.windowStartMs = opts.windowStartMs;
    this.lastTickMs = opts.windowStartMs;
    this.lateThresholdMs = opts.lateThresholdMs;
    this.settleSeconds = Math.ceil((opts.settleMs ?? DEFAULT_SETTLE_MS) / 1000);
    if (opts.historyFile !== undefined) this.historyFd = openSync(opts.historyFile, 'w');
  }

  /**
   * Moves the window's start, before anything was recorded: the run knows it only once the
   * driver is prepared (its connections open), and the sink exists before that.
   */
  anchor(windowStartMs: number): void {
    if (this.historyRecords > 0 || this.open.size > 0 || this.rows.length > 0) throw new Error('the metric sink already recorded something: its window cannot move');
    this.windowStartMs = windowStartMs;
    this.lastTickMs = windowStartMs;
  }

  /** Whether something due at `atMs` belongs to the measured window (not warm-up). */
  private inWindow(atMs: number): boolean {
    return atMs >= this.windowStartMs;
  }

  private get closed(): boolean {
    return this.windowEndMs !== undefined;
  }

  /** The bucket of the second `atMs` falls in; a second already settled hands back the totals' overflow. */
  private bucketAt(atMs: number): Bucket {
    const second = Math.floor((atMs - this.windowStartMs) / 1000);
    let open = this.open.get(second);
    if (!open) {
      if (second < this.rows.length - this.settleSeconds || (this.closed && second >= this.rows.length)) {
        this.unsettled++;
        return this.total;
      }
      open = { bucket: new Bucket(), seconds: 1 };
      this.open.set(second, open);
    }
    return open.bucket;
  }

  /**
   * One operation finished. `intendedMs` is when it was due (performance.now() clock; in the
   * open model its scheduled time), `latencyUs` measured from then; `outcome` is `ok` or an
   * error kind. A failure without any answer (refused, reset) still has a latency: the time
   * until the failure was known.
   */
  op(name: string, intendedMs: number, latencyUs: number, outcome: Outcome): void {
    if (!this.inWindow(intendedMs)) return;
    const o = this.bucketAt(intendedMs).opsOf(name);
    o.histogram.recordValue(latencyUs < 1 ? 1 : latencyUs);
    this.outcome(o, outcome);
  }

  /** One operation failed without a latency worth recording (none is added to the histogram). */
  failed(name: string, intendedMs: number, kind: string): void {
    if (!this.inWindow(intendedMs)) return;
    this.outcome(this.bucketAt(intendedMs).opsOf(name), kind);
  }

  private outcome(o: Ops, outcome: Outcome): void {
    if (outcome === 'ok') {
      o.ok++;
      if (!this.closed) this.okCompletedInWindow++;
    } else {
      increment(o.errorsByKind, outcome);
    }
    if (this.closed) this.lateResponses++;
  }

  /** A value of a named latency distribution (`e2e`, `publish`), in µs, for something due at `atMs`. */
  value(distribution: string, atMs: number, us: number): void {
    if (!this.inWindow(atMs)) return;
    this.bucketAt(atMs).distribution(distribution).recordValue(us < 1 ? 1 : us);
  }

  /** Adds `n` to a named counter, for something that happened at `atMs`. */
  count(counter: string, atMs: number, n = 1): void {
    if (!this.inWindow(atMs)) return;
    increment(this.bucketAt(atMs).counters, counter, n);
  }

  /** Adds `n` to `key` of a named tally (`served_by` → `backend-2`), for something at `atMs`. */
  tally(name: string, key: string, atMs: number, n = 1): void {
    if (!this.inWindow(atMs)) return;
    increment(this.bucketAt(atMs).tally(name), key, n);
  }

  /** Registers a gauge: `read` is called at the end of every measured second; undefined skips a sample. */
  gauge(name: string, read: () => number | undefined): void {
    this.gaugeReaders.set(name, read);
    if (!this.gaugeSamples.has(name)) this.gaugeSamples.set(name, []);
  }

  /** A send left the generator `lagMs` after its intended time (`intendedMs`). */
  sent(intendedMs: number, lagMs: number): void {
    if (!this.inWindow(intendedMs)) return;
    const sends = this.bucketAt(intendedMs).sends;
    sends.sent++;
    if (lagMs > this.lateThresholdMs) sends.late++;
    if (lagMs > this.maxLagMs) this.maxLagMs = lagMs;
  }

  /** A send due at `intendedMs` was skipped: the in-flight cap was reached. */
  dropped(intendedMs: number): void {
    if (!this.inWindow(intendedMs)) return;
    this.bucketAt(intendedMs).sends.dropped++;
  }

  /**
   * Appends a record to the history at `atMs` (performance.now() clock), warm-up included:
   * a checker reads every record after the drain. Records are plain JSON objects.
   */
  history(atMs: number, record: Record<string, unknown>): void {
    if (this.historyFd === undefined) return;
    const line = `${JSON.stringify({ t: Math.round((atMs - this.windowStartMs) * 1000) / 1000, ...record })}\n`;
    this.historyBuffer.push(line);
    this.historyBytes += line.length;
    this.historyRecords++;
    if (this.historyBytes >= HISTORY_FLUSH_BYTES) this.flushHistory();
  }

  private flushHistory(): void {
    if (this.historyFd === undefined || this.historyBuffer.length === 0) return;
    writeSync(this.historyFd, this.historyBuffer.join(''));
    this.historyBuffer = [];
    this.historyBytes = 0;
  }

  /**
   * Closes the current second at `nowMs` and returns its row as known now (what was due in it
   * and has answered); the same object is settled in place when the rest is in.
   */
  tick(nowMs: number): SecondStats {
    return this.closeSecond(Math.max((nowMs - this.lastTickMs) / 1000, 1e-3), nowMs);
  }

  private closeSecond(seconds: number, nowMs: number): SecondStats {
    const second = this.rows.length;
    let open = this.open.get(second);
    if (!open) this.open.set(second, (open = { bucket: new Bucket(), seconds }));
    open.seconds = seconds;
    const row: SecondStats = { second, ...bucketStats(open.bucket, seconds), ...open.bucket.sends };
    open.row = row;
    const gauges: Record<string, number> = {};
    for (const [name, read] of this.gaugeReaders) {
      const v = read();
      if (v === undefined || !Number.isFinite(v)) continue;
      gauges[name] = v;
      this.gaugeSamples.get(name)!.push(v);
    }
    if (Object.keys(gauges).length > 0) row.gauges = gauges;
    this.rows.push(row);
    this.lastTickMs = nowMs;
    this.settle(second - this.settleSeconds);
    this.flushHistory();
    return row;
  }

  /** Settles every open second up to `last`: its row gets its final figures in place, its counts go into the totals. */
  private settle(last: number): void {
    for (const [second, open] of [...this.open].sort(([a], [b]) => a - b)) {
      if (second > last) break;
      if (open.row) Object.assign(open.row, bucketStats(open.bucket, open.seconds), open.bucket.sends);
      this.total.add(open.bucket);
      open.bucket.destroy();
      this.open.delete(second);
    }
  }

  /** The rows closed so far (the latest ones may not have settled yet). */
  get series(): readonly SecondStats[] {
    return this.rows;
  }

  /**
   * Closes the measured window at `windowEndMs`: the last (possibly partial) second becomes a
   * row. Answers that arrive after it still count in their seconds, not in throughput.
   */
  closeWindow(windowEndMs: number): void {
    if (this.closed) return;
    if (windowEndMs > this.lastTickMs + 1) this.closeSecond((windowEndMs - this.lastTickMs) / 1000, windowEndMs);
    this.windowEndMs = windowEndMs;
  }

  /** Settles every row, closes the history and returns the window's figures. */
  finish(): SinkSummary {
    const windowEndMs = this.windowEndMs ?? performance.now();
    this.closeWindow(windowEndMs);
    this.settle(Infinity);
    this.flushHistory();
    if (this.historyFd !== undefined) closeSync(this.historyFd);
    this.historyFd = undefined;
    const seconds = Math.max((windowEndMs - this.windowStartMs) / 1000, 1e-3);
    const stats = bucketStats(this.total, seconds, true);
    // Throughput is what completed inside the window; late answers are not work it did.
    stats.throughput = Math.round((this.okCompletedInWindow / seconds) * 10) / 10;
    const gauges: Record<string, GaugeStats> = {};
    for (const [name, samples] of this.gaugeSamples) {
      if (samples.length === 0) continue;
      gauges[name] = {
        samples: samples.length,
        min: Math.min(...samples),
        max: Math.max(...samples),
        mean: Math.round((samples.reduce((a, b) => a + b, 0) / samples.length) * 100) / 100,
        last: samples[samples.length - 1]!,
      };
    }
    return {
      totals: stats,
      byOperation: stats.byOperation ?? {},
      distributions: stats.distributions ?? {},
      counters: stats.counters ?? {},
      tallies: stats.tallies ?? {},
      gauges,
      series: [...this.rows],
      sends: { ...this.total.sends, maxLagMs: Math.round(this.maxLagMs * 10) / 10 },
      lateResponses: this.lateResponses,
      unsettled: this.unsettled,
    };
  }

  /** Releases the histograms and the history file. Idempotent. */
  destroy(): void {
    if (this.historyFd !== undefined) {
      this.flushHistory();
      closeSync(this.historyFd);
      this.historyFd = undefined;
    }
    for (const open of this.open.values()) open.bucket.destroy();
    this.open.clear();
    this.total.destroy();
  }
}

/** The figures of one bucket: operations merged over names, plus each name, distributions, counters, tallies. */
function bucketStats(b: Bucket, seconds: number, alwaysByOperation = false): WindowStats & Pick<SecondStats, 'byOperation' | 'distributions' | 'counters' | 'tallies'> {
  const all = newHistogram();
  let ok = 0;
  const errorsByKind = new Map<string, number>();
  const byOperation: Record<string, WindowStats> = {};
  for (const [name, o] of b.ops) {
    byOperation[name] = windowStats(o.histogram, o.ok, o.errorsByKind, seconds);
    all.add(o.histogram);
    ok += o.ok;
    addCounts(errorsByKind, o.errorsByKind);
  }
  const stats: WindowStats & Pick<SecondStats, 'byOperation' | 'distributions' | 'counters' | 'tallies'> = windowStats(all, ok, errorsByKind, seconds);
  all.destroy();
  if (alwaysByOperation || b.ops.size > 1) stats.byOperation = byOperation;
  const distributions: Record<string, DistributionStats> = {};
  for (const [name, h] of b.distributions) if (alwaysByOperation || h.totalCount > 0) distributions[name] = distributionStats(h);
  if (Object.keys(distributions).length > 0) stats.distributions = distributions;
  if (b.counters.size > 0) stats.counters = Object.fromEntries(b.counters);
  if (b.tallies.size > 0) stats.tallies = Object.fromEntries([...b.tallies].map(([k, t]) => [k, Object.fromEntries(t)]));
  return stats;
}

function latencyFigures(h: Histogram): LatencyFigures {
  const s = summarize(h);
  return { min: s.min, mean: s.mean, p50: s.p50, p90: s.p90, p99: s.p99, p999: s.p999, max: s.max };
}

/** A distribution's figures and its encoded histogram. */
export function distributionStats(h: Histogram): DistributionStats {
  return { count: h.totalCount, latencyUs: latencyFigures(h), histogram: encodeHistogram(h) };
}

/** Figures of one window from its histogram and counters. */
export function windowStats(h: Histogram, ok: number, errorsByKind: ReadonlyMap<string, number>, seconds: number): WindowStats {
  let errors = 0;
  for (const n of errorsByKind.values()) errors += n;
  return {
    ops: ok + errors,
    ok,
    errors,
    errorsByKind: Object.fromEntries(errorsByKind),
    throughput: Math.round((ok / seconds) * 10) / 10,
    latencyUs: latencyFigures(h),
    histogram: encodeHistogram(h),
  };
}

/** Several seconds' rows added into one window's figures: histograms merged exactly, counts summed, gauges at their worst (max). */
export interface MergedRows extends WindowStats {
  sent: number;
  late: number;
  dropped: number;
  distributions: Record<string, DistributionStats>;
  counters: Record<string, number>;
  tallies: Record<string, Record<string, number>>;
  /** Each gauge's largest sample in these seconds. */
  gauges: Record<string, number>;
}

/** Adds rows (seconds) into one window's figures: histograms merged exactly, counts summed. */
export function mergeRows(rows: readonly SecondStats[], seconds: number): MergedRows {
  const errorsByKind = new Map<string, number>();
  const counters = new Map<string, number>();
  const tallies = new Map<string, Map<string, number>>();
  const gauges: Record<string, number> = {};
  const distNames = new Set<string>();
  let ok = 0;
  const sends = { sent: 0, late: 0, dropped: 0 };
  for (const r of rows) {
    ok += r.ok;
    addCounts(errorsByKind, r.errorsByKind);
    addCounts(counters, r.counters ?? {});
    for (const [name, t] of Object.entries(r.tallies ?? {})) {
      if (!tallies.has(name)) tallies.set(name, new Map());
      addCounts(tallies.get(name)!, t);
    }
    for (const [name, v] of Object.entries(r.gauges ?? {})) gauges[name] = Math.max(gauges[name] ?? -Infinity, v);
    for (const name of Object.keys(r.distributions ?? {})) distNames.add(name);
    sends.sent += r.sent ?? 0;
    sends.late += r.late ?? 0;
    sends.dropped += r.dropped ?? 0;
  }
  const h = mergeEncoded(rows.map((r) => r.histogram));
  const stats = windowStats(h, ok, errorsByKind, seconds);
  h.destroy();
  const distributions: Record<string, DistributionStats> = {};
  for (const name of distNames) {
    const d = mergeEncoded(rows.flatMap((r) => (r.distributions?.[name] ? [r.distributions[name].histogram] : [])));
    distributions[name] = distributionStats(d);
    d.destroy();
  }
  return {
    ...stats,
    ...sends,
    distributions,
    counters: Object.fromEntries(counters),
    tallies: Object.fromEntries([...tallies].map(([k, t]) => [k, Object.fromEntries(t)])),
    gauges,
  };
}
