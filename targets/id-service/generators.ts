// The ID generators the id-service target compares, as pure code: the clock (and for UUIDv7 the
// random source) is injected, nothing sleeps and nothing is read from the system, so a test
// drives time to the exact millisecond and a service decides how it waits.
import { getRandomValues } from 'node:crypto';

/** Reads the wall clock: ms since the Unix epoch, `Date.now` in a service. Fractions are floored. */
export type Clock = () => number;

/** Fills the array with random bytes (`crypto.getRandomValues` by default). */
export type RandomSource = (into: Uint8Array) => void;

/**
 * What a time-based generator does when its clock reads earlier than the last time unit it
 * issued in:
 * - `wait`: issues nothing and asks to be called again when the clock is back at that unit,
 *   then continues that unit's sequence (no ID can repeat; the caller's latency grows by the jump).
 * - `refuse`: throws {@link ClockMovedBackError} (the service answers with an error; no ID repeats).
 * - `none`: takes the clock as it is and restarts the sequence in the earlier unit, so every ID
 *   of a replayed unit that was issued before the jump is issued again.
 */
export type ClockBackPolicy = 'wait' | 'refuse' | 'none';

/** Twitter's snowflake epoch, 2010-11-04T01:42:54.657Z: the default `epochMs` of `snowflake`. */
export const SNOWFLAKE_EPOCH_MS = 1288834974657;
/** Sonyflake's default start time, 2014-09-01T00:00:00Z. */
export const SONYFLAKE_EPOCH_MS = Date.UTC(2014, 8, 1);

/** Bit widths of a snowflake ID, high to low after the unused sign bit: time (ms), worker, sequence. */
export const SNOWFLAKE_BITS = { time: 41, worker: 10, sequence: 12 } as const;
/**
 * Bit widths of a sonyflake ID, high to low after the sign bit: time in 10 ms units, sequence,
 * machine. The sequence sits above the machine id, unlike snowflake (sony/sonyflake's `toID`).
 */
export const SONYFLAKE_BITS = { time: 39, sequence: 8, machine: 16 } as const;
/** Sonyflake's time unit (ms). */
export const SONYFLAKE_UNIT_MS = 10;
/** UUIDv7's counter: the 12 bits of `rand_a`. A new millisecond seeds it at random below 2^11, leaving half the space for increments. */
export const UUIDV7_COUNTER_BITS = 12;

/** Options of one generator, as a scenario gives them (validated by the id-service target's schema). */
export type GeneratorOptions =
  | { kind: 'snowflake'; workerId: number; epochMs?: number; clockBack?: ClockBackPolicy }
  | { kind: 'sonyflake'; machineId: number; epochMs?: number; clockBack?: ClockBackPolicy }
  | { kind: 'uuidv7'; clockBack?: ClockBackPolicy };

/**
 * How to read the time out of an ID, for the drift count of the `ids` checker. `counter` IDs
 * (a Redis INCR, a segment range) carry no time.
 */
export type IdLayout = { kind: 'snowflake'; epochMs: number } | { kind: 'sonyflake'; epochMs: number } | { kind: 'uuidv7' } | { kind: 'counter' };

/** What a generator has done since it was made. */
export interface GeneratorStats {
  /** IDs handed out. */
  issued: number;
  /** Times a time unit's sequence ran out and the generator asked to wait for the next unit (once per unit). */
  sequenceWaits: number;
  /** Times the clock was found earlier than the last unit issued in (once per jump, whatever the policy). */
  clockBacks: number;
  /** Calls refused under the `refuse` policy (each one counts). */
  refused: number;
}

/** The IDs one {@link IdGenerator.take} handed out and, when fewer than asked, when to ask again. */
export interface Taken {
  /** In issue order: decimal strings (snowflake, sonyflake) or lower-case UUIDs. */
  ids: string[];
  /** Present when `ids` is short: call again once the clock reads `atMs` or later. */
  retry?: { atMs: number; reason: 'sequence' | 'clock-back' };
}

export interface IdGenerator {
  readonly layout: IdLayout;
  readonly stats: Readonly<GeneratorStats>;
  /**
   * Reads the clock once and hands out up to `count` IDs in that time unit. Never blocks: when
   * the unit's sequence runs out, or under `wait` the clock is behind, it returns what it has
   * with `retry`. Throws {@link ClockMovedBackError} under `refuse`.
   */
  take(count: number): Taken;
}

/** The clock read earlier than the last time unit a `refuse` generator issued in; a service turns it into an HTTP 503. */
export class ClockMovedBackError extends Error {
  readonly code = 'clock-moved-back';
  /** Start of the last unit issued in (ms since the Unix epoch). */
  readonly lastMs: number;
  /** What the clock read. */
  readonly nowMs: number;

  constructor(lastMs: number, nowMs: number) {
    super(`the clock moved back by ${lastMs - nowMs} ms (now ${nowMs}, last ID issued at ${lastMs}); refusing to issue IDs until it catches up`);
    this.name = 'ClockMovedBackError';
    this.lastMs = lastMs;
    this.nowMs = nowMs;
  }
}

interface TimeSpace {
  epochMs: number;
  unitMs: number;
  timeBits: number;
  sequenceBits: number;
}

/**
 * The state machine every time-based generator shares: one time unit and the next sequence
 * number in it. Subclasses say how a sequence starts and how (unit, sequence) becomes an ID.
 */
abstract class TimeSequenceGenerator implements IdGenerator {
  abstract readonly layout: IdLayout;
  readonly stats: GeneratorStats = { issued: 0, sequenceWaits: 0, clockBacks: 0, refused: 0 };
  private readonly clock: Clock;
  private readonly space: TimeSpace;
  private readonly policy: ClockBackPolicy;
  private readonly maxSequence: number;
  /** The unit issued in last (-1: none yet), the next sequence number in it. */
  private unit = -1;
  private sequence = 0;
  /** The unit whose exhaustion or clock jump was already counted, so repeated calls count it once. */
  private exhaustedUnit = -1;
  private backFromUnit = -1;

  constructor(clock: Clock, space: TimeSpace, policy: ClockBackPolicy) {
    this.clock = clock;
    this.space = space;
    this.policy = policy;
    this.maxSequence = 2 ** space.sequenceBits - 1;
  }

  /** The first sequence number of a new unit. */
  protected abstract firstSequence(): number;
  protected abstract format(unit: number, sequence: number): string;

  take(count: number): Taken {
    if (!Number.isInteger(count) || count < 1) throw new RangeError(`count must be a positive integer, got ${count}`);
    const { epochMs, unitMs, timeBits } = this.space;
    const nowMs = this.clock();
    const now = Math.floor((nowMs - epochMs) / unitMs);
    if (now < 0 || now >= 2 ** timeBits) {
      throw new RangeError(`the clock reads ${nowMs} ms, outside the ${timeBits}-bit time space of ${unitMs} ms units from the epoch ${epochMs}`);
    }
    if (now < this.unit) {
      if (this.backFromUnit !== this.unit) {
        this.backFromUnit = this.unit;
        this.stats.clockBacks++;
      }
      const lastMs = epochMs + this.unit * unitMs;
      if (this.policy === 'wait') return { ids: [], retry: { atMs: lastMs, reason: 'clock-back' } };
      if (this.policy === 'refuse') {
        this.stats.refused++;
        throw new ClockMovedBackError(lastMs, nowMs);
      }
      this.unit = now;
      this.sequence = this.firstSequence();
    } else if (now > this.unit) {
      this.unit = now;
      this.sequence = this.firstSequence();
    }
    const ids: string[] = [];
    while (ids.length < count) {
      if (this.sequence > this.maxSequence) {
        if (this.exhaustedUnit !== this.unit) {
          this.exhaustedUnit = this.unit;
          this.stats.sequenceWaits++;
        }
        this.stats.issued += ids.length;
        return { ids, retry: { atMs: epochMs + (this.unit + 1) * unitMs, reason: 'sequence' } };
      }
      ids.push(this.format(this.unit, this.sequence++));
    }
    this.stats.issued += ids.length;
    return { ids };
  }
}

function checkRange(name: string, value: number, bits: number): void {
  if (!Number.isInteger(value) || value < 0 || value >= 2 ** bits) throw new RangeError(`${name} must be an integer in [0, ${2 ** bits - 1}], got ${value}`);
}

/**
 * Snowflake: 41 bits of ms since `epochMs`, 10 bits of worker id, 12 bits of sequence (4,096
 * IDs per ms per worker), as a decimal string. Two workers with the same id and clock issue
 * the same IDs.
 */
export class SnowflakeGenerator extends TimeSequenceGenerator {
  readonly layout: IdLayout;
  private readonly workerBits: number;

  constructor(opts: { clock: Clock; workerId: number; epochMs?: number; clockBack?: ClockBackPolicy }) {
    const epochMs = opts.epochMs ?? SNOWFLAKE_EPOCH_MS;
    super(opts.clock, { epochMs, unitMs: 1, timeBits: SNOWFLAKE_BITS.time, sequenceBits: SNOWFLAKE_BITS.sequence }, opts.clockBack ?? 'refuse');
    checkRange('workerId', opts.workerId, SNOWFLAKE_BITS.worker);
    this.layout = { kind: 'snowflake', epochMs };
    this.workerBits = opts.workerId * 2 ** SNOWFLAKE_BITS.sequence;
  }

  protected firstSequence(): number {
    return 0;
  }

  protected format(unit: number, sequence: number): string {
    return ((BigInt(unit) << 22n) | BigInt(this.workerBits + sequence)).toString();
  }
}

/**
 * Sonyflake: 39 bits of 10 ms units since `epochMs`, 8 bits of sequence (256 IDs per 10 ms),
 * 16 bits of machine id, as a decimal string. sony/sonyflake itself never reads its clock as
 * going back (it keeps its last unit and sleeps when the sequence wraps): `wait`, the default,
 * is the closest policy.
 */
export class SonyflakeGenerator extends TimeSequenceGenerator {
  readonly layout: IdLayout;
  private readonly machineId: number;

  constructor(opts: { clock: Clock; machineId: number; epochMs?: number; clockBack?: ClockBackPolicy }) {
    const epochMs = opts.epochMs ?? SONYFLAKE_EPOCH_MS;
    super(opts.clock, { epochMs, unitMs: SONYFLAKE_UNIT_MS, timeBits: SONYFLAKE_BITS.time, sequenceBits: SONYFLAKE_BITS.sequence }, opts.clockBack ?? 'wait');
    checkRange('machineId', opts.machineId, SONYFLAKE_BITS.machine);
    this.layout = { kind: 'sonyflake', epochMs };
    this.machineId = opts.machineId;
  }

  protected firstSequence(): number {
    return 0;
  }

  protected format(unit: number, sequence: number): string {
    return ((BigInt(unit) << 24n) | BigInt(sequence * 2 ** SONYFLAKE_BITS.machine + this.machineId)).toString();
  }
}

const HEX = Array.from({ length: 256 }, (_, b) => b.toString(16).padStart(2, '0'));

/**
 * UUIDv7 (RFC 9562 §5.7): 48 bits of Unix ms, version 7, 12 bits of `rand_a`, variant 10,
 * 62 random bits of `rand_b`. Monotonic within a millisecond by RFC 9562 §6.2 method 1 (a
 * fixed-length dedicated counter): `rand_a` is the counter, seeded at random below 2^11 each
 * new millisecond (the leftmost bit left 0 as a rollover guard) and incremented per ID; when
 * it runs out the generator waits for the next millisecond, like snowflake. IDs from
 * different instances stay unique through the 62 random bits, whatever their clocks do.
 */
export class Uuidv7Generator extends TimeSequenceGenerator {
  readonly layout: IdLayout = { kind: 'uuidv7' };
  private readonly random: RandomSource;
  private readonly bytes = new Uint8Array(8);

  constructor(opts: { clock: Clock; clockBack?: ClockBackPolicy; random?: RandomSource }) {
    super(opts.clock, { epochMs: 0, unitMs: 1, timeBits: 48, sequenceBits: UUIDV7_COUNTER_BITS }, opts.clockBack ?? 'wait');
    this.random = opts.random ?? ((into) => void getRandomValues(into));
  }

  protected firstSequence(): number {
    const b = this.bytes.subarray(0, 2);
    this.random(b);
    return ((b[0]! << 8) | b[1]!) & (2 ** (UUIDV7_COUNTER_BITS - 1) - 1);
  }

  protected format(unit: number, sequence: number): string {
    const b = this.bytes;
    this.random(b);
    const time = unit.toString(16).padStart(12, '0');
    const variant = HEX[0x80 | (b[0]! & 0x3f)]! + HEX[b[1]!]!;
    const rest = HEX[b[2]!]! + HEX[b[3]!]! + HEX[b[4]!]! + HEX[b[5]!]! + HEX[b[6]!]! + HEX[b[7]!]!;
    return `${time.slice(0, 8)}-${time.slice(8)}-${(0x7000 + sequence).toString(16)}-${variant}-${rest}`;
  }
}

/** Makes the generator `opts` names, reading `clock` (and for UUIDv7 `random`). */
export function createGenerator(opts: GeneratorOptions, clock: Clock, random?: RandomSource): IdGenerator {
  switch (opts.kind) {
    case 'snowflake':
      return new SnowflakeGenerator({ clock, workerId: opts.workerId, epochMs: opts.epochMs, clockBack: opts.clockBack });
    case 'sonyflake':
      return new SonyflakeGenerator({ clock, machineId: opts.machineId, epochMs: opts.epochMs, clockBack: opts.clockBack });
    case 'uuidv7':
      return new Uuidv7Generator({ clock, clockBack: opts.clockBack, random });
  }
}

/** The IDs of one call, and what it cost in waiting. */
export interface Issued {
  ids: string[];
  /** Times the call waited for a new sequence unit, and for the clock to come back. */
  waits: { sequence: number; clockBack: number };
  /** The sum of the sleeps asked for (ms). */
  sleptMs: number;
}

/**
 * Issues exactly `count` IDs, sleeping whenever the generator asks to be called later: the
 * loop of one (batch) call. `sleep` is the service's timer (a test's advances its clock).
 * Calls that overlap on one generator may interleave their IDs while one sleeps; a service
 * goes through {@link IdIssuer}, which takes them one at a time. Rethrows
 * {@link ClockMovedBackError}; the IDs taken before it are discarded, never reissued.
 */
export async function issueIds(generator: IdGenerator, count: number, opts: { clock: Clock; sleep: (ms: number) => Promise<void>; maxWaits?: number }): Promise<Issued> {
  const maxWaits = opts.maxWaits ?? 100_000;
  const out: Issued = { ids: [], waits: { sequence: 0, clockBack: 0 }, sleptMs: 0 };
  while (out.ids.length < count) {
    const taken = generator.take(count - out.ids.length);
    for (const id of taken.ids) out.ids.push(id);
    if (!taken.retry) continue;
    if (out.waits.sequence + out.waits.clockBack >= maxWaits) throw new Error(`gave up after ${maxWaits} waits for the clock to reach ${taken.retry.atMs} (it reads ${opts.clock()})`);
    if (taken.retry.reason === 'sequence') out.waits.sequence++;
    else out.waits.clockBack++;
    const ms = Math.max(0, taken.retry.atMs - opts.clock());
    out.sleptMs += ms;
    await opts.sleep(ms);
  }
  return out;
}

/**
 * One generator as a service uses it: calls are served one at a time in arrival order, a call
 * that waits holding up those behind it (as a lock around a snowflake's `nextId` does), so each
 * call's IDs are contiguous in issue order and numbered: `n` is how many IDs this issuer handed
 * out before the call (the `n` of the `ids` checker's records). A refused call hands out nothing.
 */
export class IdIssuer {
  readonly generator: IdGenerator;
  private readonly opts: { clock: Clock; sleep: (ms: number) => Promise<void>; maxWaits?: number };
  private tail: Promise<unknown> = Promise.resolve();
  /** IDs handed out so far. */
  issued = 0;

  constructor(generator: IdGenerator, opts: { clock: Clock; sleep: (ms: number) => Promise<void>; maxWaits?: number }) {
    this.generator = generator;
    this.opts = opts;
  }

  /** Issues `count` IDs once every earlier call is done. */
  issue(count: number): Promise<Issued & { n: number }> {
    const result = this.tail.then(async () => {
      const out = await issueIds(this.generator, count, this.opts);
      const n = this.issued;
      this.issued += out.ids.length;
      return { ...out, n };
    });
    this.tail = result.catch(() => undefined);
    return result;
  }
}

const TWO_32 = 2 ** 32;

/**
 * Reads a decimal ID (up to 2^64 - 1) into `into` at `off` as its high and low 32 bits, without
 * BigInt or an allocation (the checker reads millions); false when it is not one.
 */
export function readDecimalId(id: string, into: Uint32Array, off: number): boolean {
  const n = id.length;
  if (n === 0 || n > 20) return false;
  let hi = 0;
  let lo = 0;
  // Five digits at a time: lo × 10^5 + group < 2^49 and hi × 10^5 + carry < 2^49, exact in a double.
  for (let i = 0; i < n; ) {
    const end = i === 0 ? n % 5 || 5 : i + 5;
    let group = 0;
    for (; i < end; i++) {
      const d = id.charCodeAt(i) - 48;
      if (d < 0 || d > 9) return false;
      group = group * 10 + d;
    }
    const x = lo * 100_000 + group;
    const carry = Math.floor(x / TWO_32);
    lo = x - carry * TWO_32;
    hi = hi * 100_000 + carry;
    if (hi >= TWO_32) return false;
  }
  into[off] = hi;
  into[off + 1] = lo;
  return true;
}

/** A decimal ID's high and low 32 bits; undefined when it is not a decimal up to 2^64 - 1. */
export function decimalIdWords(id: string): [hi: number, lo: number] | undefined {
  const words = new Uint32Array(2);
  return readDecimalId(id, words, 0) ? [words[0]!, words[1]!] : undefined;
}

/**
 * The time an ID carries (ms since the Unix epoch), from its first 64 bits as two 32-bit words:
 * high and low of a decimal ID, or the first two words of a UUID. Undefined for `counter`.
 * The start of the ID's unit: a sonyflake ID made at 12:00:00.019 reads 12:00:00.010.
 */
export function timeOfWords(layout: IdLayout, w0: number, w1: number): number | undefined {
  switch (layout.kind) {
    case 'snowflake':
      return layout.epochMs + w0 * 2 ** (32 - 22) + Math.floor(w1 / 2 ** 22);
    case 'sonyflake':
      return layout.epochMs + SONYFLAKE_UNIT_MS * (w0 * 2 ** (32 - 24) + Math.floor(w1 / 2 ** 24));
    case 'uuidv7':
      return w0 * 2 ** 16 + Math.floor(w1 / 2 ** 16);
    case 'counter':
      return undefined;
  }
}

/** The fields of a snowflake ID. */
export function decodeSnowflake(id: string | bigint, epochMs = SNOWFLAKE_EPOCH_MS): { timeMs: number; workerId: number; sequence: number } {
  const v = BigInt(id);
  return {
    timeMs: epochMs + Number(v >> 22n),
    workerId: Number((v >> 12n) & 0x3ffn),
    sequence: Number(v & 0xfffn),
  };
}

/** The fields of a sonyflake ID; `timeMs` is the start of its 10 ms unit. */
export function decodeSonyflake(id: string | bigint, epochMs = SONYFLAKE_EPOCH_MS): { timeMs: number; sequence: number; machineId: number } {
  const v = BigInt(id);
  return {
    timeMs: epochMs + SONYFLAKE_UNIT_MS * Number(v >> 24n),
    sequence: Number((v >> 16n) & 0xffn),
    machineId: Number(v & 0xffffn),
  };
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The fields of a UUIDv7: its ms, version and variant bits, and the `rand_a` counter. Throws on a string that is not a UUID. */
export function decodeUuidv7(uuid: string): { timeMs: number; version: number; variant: number; counter: number } {
  if (!UUID.test(uuid)) throw new RangeError(`not a UUID: ${JSON.stringify(uuid)}`);
  const hex = uuid.replaceAll('-', '');
  return {
    timeMs: parseInt(hex.slice(0, 12), 16),
    version: parseInt(hex[12]!, 16),
    variant: parseInt(hex[16]!, 16) >> 2,
    counter: parseInt(hex.slice(13, 16), 16),
  };
}

/** The time an ID carries under `layout` (ms since the Unix epoch); undefined for `counter` IDs. */
export function idTimeMs(layout: IdLayout, id: string): number | undefined {
  switch (layout.kind) {
    case 'snowflake':
      return decodeSnowflake(id, layout.epochMs).timeMs;
    case 'sonyflake':
      return decodeSonyflake(id, layout.epochMs).timeMs;
    case 'uuidv7':
      return decodeUuidv7(id).timeMs;
    case 'counter':
      return undefined;
  }
}
