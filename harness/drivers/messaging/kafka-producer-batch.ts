/**
 * What the producers' process (client `confluent` with `producerProcess`) and the driver's
 * process say to each other over their IPC channel: settings, commands, and the compact batches
 * in which the producers' process reports what its producers did, message by message, for the
 * driver to record. "Main" below is the driver's process.
 */

/** A batch record: a message was handed to librdkafka (`at`: when `produce()` returned). */
export const HANDED_OVER = 0;
/** A batch record: a message's delivery report said it was stored (`at`: when the report came). */
export const ACKED = 1;
/** Numbers per batch record: kind, producer number, sequence number, due time, event time. */
export const RECORD_FIELDS = 5;

/** A message that failed: its delivery report's error, or none when the publish timeout passed first. */
export interface FailedMessage {
  producer: number;
  seq: number;
  /** Due time and failure time (ms, the driver's performance.now() clock). */
  dueMs: number;
  atMs: number;
  /** librdkafka's error: its message, its code and the code's name (ERR__MSG_TIMED_OUT); absent for the publish timeout. */
  error?: { message: string; code?: number; type?: string };
}

/** What the driver sends the producers' process first (the IPC channel's advanced serialization: bigint and typed arrays pass). */
export interface ProducerProcessSetup {
  /** The `@confluentinc/kafka-javascript` package's folder. */
  packageDir: string;
  topic: string;
  /** librdkafka's settings, one per producer: producer `i + 1` gets `configs[i]`. */
  configs: Record<string, string | number | boolean>[];
  /** Bytes per message, and the number of keys (message k carries key k mod `keys`), as the workload says. */
  size: number;
  keys: number | undefined;
  publishTimeoutMs: number;
  /** Closed model: publishes outstanding across the process's producers; undefined in the open model (the driver's pacer sends). */
  window: number | undefined;
  /** Where the driver's performance.now() is 0 on the machine's monotonic clock (ns): see `perfZeroNs`. */
  mainZeroNs: bigint;
  /** How often the producers' process reports what it recorded (ms). */
  flushMs: number;
}

/** Commands to the producers' process. */
export type ToProducerProcess =
  /** Closed model: keep `window` publishes outstanding until `endMs` (the driver's clock). */
  | { type: 'start'; endMs: number }
  /** Open model: publish these messages, `SEND_FIELDS` numbers each, as the driver's pacer made them due. */
  | { type: 'send'; data: Float64Array }
  /** Send nothing more; report `idle` once every publish outstanding has been answered or timed out. */
  | { type: 'stop' }
  /** Stop librdkafka (no wait for what it holds) and report `closed`. */
  | { type: 'close' };

/** Numbers per message of a `send` command: producer number, sequence number, due time, key (-1: none). */
export const SEND_FIELDS = 4;

/** Reports of the producers' process. */
export type FromProducerProcess =
  /** librdkafka loaded and every producer connected. */
  | { type: 'ready' }
  /** `stage` `load`: the addon did not load; `connect`: a producer did not connect; `run`: anything after. */
  | { type: 'failed'; stage: 'load' | 'connect' | 'run'; message: string }
  /** `records` records of `RECORD_FIELDS` numbers in `data`, and the failures since the last batch. */
  | { type: 'batch'; data: Float64Array; records: number; failures: FailedMessage[] }
  | { type: 'idle' }
  | { type: 'closed' };

/** Gathers batch records in a Float64Array that grows as needed; `take()` hands over a copy of the filled part and starts again. */
export class BatchWriter {
  private data: Float64Array;
  private n = 0;

  /** `records`: room for this many records before the first growth. */
  constructor(records = 4096) {
    this.data = new Float64Array(records * RECORD_FIELDS);
  }

  get records(): number {
    return this.n;
  }

  push(kind: number, producer: number, seq: number, dueMs: number, atMs: number): void {
    let i = this.n * RECORD_FIELDS;
    if (i + RECORD_FIELDS > this.data.length) {
      const grown = new Float64Array(this.data.length * 2);
      grown.set(this.data);
      this.data = grown;
    }
    const d = this.data;
    d[i++] = kind;
    d[i++] = producer;
    d[i++] = seq;
    d[i++] = dueMs;
    d[i] = atMs;
    this.n++;
  }

  /**
   * The records so far, in an array of their own just as long (a serialized view would carry its
   * whole buffer), and their count; the writer starts empty.
   */
  take(): { data: Float64Array; records: number } {
    const out = { data: this.data.slice(0, this.n * RECORD_FIELDS), records: this.n };
    this.n = 0;
    return out;
  }
}

/** Calls `each` for the first `records` records of a batch, in the order they were written. */
export function readBatch(data: Float64Array, records: number, each: (kind: number, producer: number, seq: number, dueMs: number, atMs: number) => void): void {
  for (let i = 0, end = records * RECORD_FIELDS; i < end; i += RECORD_FIELDS) each(data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!, data[i + 4]!);
}

/**
 * Where this process's performance.now() is 0 on the machine's monotonic clock (ns). Each
 * process's performance.now() counts from its own start (the producers' process starts later
 * than the driver's), but both read the same monotonic clock as process.hrtime (CLOCK_MONOTONIC,
 * one for the whole machine), so the two zeros on it give the exact difference of their clocks.
 * The difference of the two performance.timeOrigin would give it too, but those are taken from
 * the wall clock, which may be stepped or slewed between the two starts.
 */
export function perfZeroNs(): bigint {
  // performance.now() read between two readings of the monotonic clock, taken where the two
  // readings are closest: the first call of performance.now() in a process loads it (a
  // millisecond or more), and any call may be interrupted.
  let best: { zero: bigint; spread: bigint } | undefined;
  for (let i = 0; i < 5; i++) {
    const before = process.hrtime.bigint();
    const p = performance.now();
    const after = process.hrtime.bigint();
    const spread = after - before;
    if (!best || spread < best.spread) best = { zero: before + spread / 2n - BigInt(Math.round(p * 1e6)), spread };
  }
  return best!.zero;
}

/**
 * What to add to a time on the clock whose zero is `otherZeroNs` (the producers' process's
 * performance.now()) to read the same instant on the clock whose zero is `mainZeroNs` (the
 * driver's), in ms.
 */
export function clockOffsetMs(mainZeroNs: bigint, otherZeroNs: bigint): number {
  return Number(otherZeroNs - mainZeroNs) / 1e6;
}
