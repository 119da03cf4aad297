import { readDecimalId, timeOfWords, type IdLayout } from '../../targets/id-service/generators.ts';
import type { HistoryRecord } from '../metrics/sink.ts';
import { at, Tally, type CheckerDefinition, type Count } from './checker.ts';


/**
 * The history records the `ids` checker reads (`t`, ms since the window began, is added by the sink):
 * - `{ ev: 'id', i, id, n?, w? }`: one ID returned by instance `i`.
 * - `{ ev: 'ids', i, ids, n?, w? }`: a batch, `ids` in the order the instance issued them.
 * - `{ ev: 'id-layout', layout, i? }`: how to read the time out of the IDs of instance `i`
 *   (of every instance without `i`); written once, before the IDs. Without one, UUIDs of
 *   version 7 are read as UUIDv7 and decimal IDs carry no time.
 *
 * `id` is a decimal string up to 2^64 - 1 or a UUID (`8-4-4-4-12` hex); never a JSON number,
 * which loses precision above 2^53 and makes distinct IDs equal. `i` names one process: a
 * restarted instance gets a new name (`id-1@<pid>`), since it numbers its IDs from 0 again.
 * `n` is how many IDs the instance handed out before this call (`IdIssuer`'s `n`: a call's IDs
 * are contiguous in issue order): with it the checker puts each instance's IDs back in the
 * order they were issued, a call whose response never came leaving a gap it steps over; without
 * it, in the order the history has them (responses as the load generator received them, which
 * with several calls in flight to one instance may differ). `w` is the load generator's wall
 * clock (`Date.now()`, ms) when the response arrived.
 */
export type IdRecord =
  | { t: number; ev: 'id'; i: string; id: string; n?: number; w?: number }
  | { t: number; ev: 'ids'; i: string; ids: string[]; n?: number; w?: number }
  | { t: number; ev: 'id-layout'; layout: IdLayout; i?: string };

/** The counts of the `ids` checker. */
export type IdsCounts = Record<'duplicate_ids' | 'non_monotonic' | 'ids_ahead' | 'id_ahead_max_ms' | 'unreadable_ids', Count>;

export interface IdsCheckOptions {
  /** An ID whose time runs further than this ahead of the wall clock at its receipt counts in `ids_ahead` (ms); default 10. */
  aheadThresholdMs?: number;
  /** Entries per sorted chunk; default 2^20 (8 MiB of decimal IDs). Smaller only to test the merge. */
  chunkEntries?: number;
}

/** Default of {@link IdsCheckOptions.aheadThresholdMs}: one sonyflake unit. */
export const AHEAD_THRESHOLD_MS = 10;
const CHUNK_ENTRIES = 2 ** 20;
/** IDs held per instance while waiting for an earlier `n` to arrive; past it, the missing call is taken as lost. */
const MAX_PENDING_IDS = 65_536;
/** 32-bit words per ID: a decimal ID (64 bits), a UUID (128 bits). */
const DECIMAL = 2;
const UUID = 4;
const UUID_TEXT = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Reads an ID into `into` at `off`: its width in words (most significant first), or 0 when it is neither a decimal up to 64 bits nor a UUID. */
function readId(id: unknown, into: Uint32Array, off: number): number {
  if (typeof id !== 'string') return 0;
  if (id.length === 36) {
    if (!UUID_TEXT.test(id)) return 0;
    into[off] = parseInt(id.slice(0, 8), 16);
    into[off + 1] = parseInt(id.slice(9, 13) + id.slice(14, 18), 16);
    into[off + 2] = parseInt(id.slice(19, 23) + id.slice(24, 28), 16);
    into[off + 3] = parseInt(id.slice(28), 16);
    return UUID;
  }
  return readDecimalId(id, into, off) ? DECIMAL : 0;
}

/** The ID at `off` as text, for examples. */
function idText(words: Uint32Array, off: number, width: number): string {
  if (width === DECIMAL) return ((BigInt(words[off]!) << 32n) | BigInt(words[off + 1]!)).toString();
  const hex = Array.from(words.subarray(off, off + UUID), (w) => w.toString(16).padStart(8, '0')).join('');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/** Compares the entries at `ia` of `a` and `ib` of `b`, word by word. */
function compare(a: Uint32Array, ia: number, b: Uint32Array, ib: number, width: number): number {
  for (let k = 0; k < width; k++) {
    const x = a[ia + k]!;
    const y = b[ib + k]!;
    if (x !== y) return x < y ? -1 : 1;
  }
  return 0;
}

const digitCounts = new Uint32Array(2 ** 16);

/**
 * Sorts `n` entries of `width` words (most significant first) by least-significant-digit radix
 * sort, 16 bits a pass, between `a` and `b`; a pass whose digit is the same for every entry
 * (the high time bits of IDs issued close together) is skipped. Returns the array holding the result.
 */
function radixSort(a: Uint32Array, b: Uint32Array, n: number, width: number): Uint32Array {
  let src = a;
  let dst = b;
  const end = n * width;
  for (let w = width - 1; w >= 0; w--) {
    for (let shift = 0; shift < 32; shift += 16) {
      digitCounts.fill(0);
      for (let i = w; i < end; i += width) digitCounts[(src[i]! >>> shift) & 0xffff]!++;
      if (digitCounts[(src[w]! >>> shift) & 0xffff] === n) continue;
      let sum = 0;
      for (let d = 0; d < digitCounts.length; d++) {
        const c = digitCounts[d]!;
        digitCounts[d] = sum;
        sum += c;
      }
      for (let i = 0; i < end; i += width) {
        const d = (src[i + w]! >>> shift) & 0xffff;
        const j = digitCounts[d]! * width;
        digitCounts[d]!++;
        for (let k = 0; k < width; k++) dst[j + k] = src[i + k]!;
      }
      const t = src;
      src = dst;
      dst = t;
    }
  }
  return src;
}

/** Sorted distinct values that occur more than once, `count` entries of `width` words. */
interface Repeated {
  values: Uint32Array;
  count: number;
  /** Occurrences beyond the first, summed over the values. */
  extra: number;
}

/**
 * Every ID of one width, in fixed-size chunks of typed arrays, each sorted when it fills; the
 * duplicates come from merging the sorted chunks. Memory: `width` × 4 bytes per ID, plus the
 * chunk being filled and one sort buffer.
 */
class IdColumn {
  readonly width: number;
  private readonly chunkEntries: number;
  private readonly sorted: { words: Uint32Array; length: number }[] = [];
  private current: Uint32Array | undefined;
  private used = 0;
  private spare: Uint32Array | undefined;
  count = 0;

  constructor(width: number, chunkEntries: number) {
    this.width = width;
    this.chunkEntries = chunkEntries;
  }

  push(words: Uint32Array, off: number): void {
    this.current ??= new Uint32Array(this.chunkEntries * this.width);
    const at = this.used * this.width;
    for (let k = 0; k < this.width; k++) this.current[at + k] = words[off + k]!;
    this.count++;
    if (++this.used === this.chunkEntries) this.seal();
  }

  private seal(): void {
    if (!this.current || this.used === 0) return;
    this.spare ??= new Uint32Array(this.chunkEntries * this.width);
    const chunk = this.current;
    const result = radixSort(chunk, this.spare, this.used, this.width);
    // The sort ends in either buffer: keep the one holding the result, the other becomes the next sort's.
    if (result !== chunk) this.spare = chunk;
    this.sorted.push({ words: result, length: this.used });
    this.current = undefined;
    this.used = 0;
  }

  /** Merges the sorted chunks into one ascending walk and keeps each value seen more than once; releases the chunks. */
  repeated(): Repeated {
    this.seal();
    this.spare = undefined;
    const width = this.width;
    const runs = this.sorted.splice(0);
    const pos = new Float64Array(runs.length);
    const heap = Int32Array.from(runs.keys());
    let size = heap.length;
    const less = (r: number, s: number): boolean => {
      const c = compare(runs[r]!.words, pos[r]! * width, runs[s]!.words, pos[s]! * width, width);
      return c < 0 || (c === 0 && r < s);
    };
    const siftDown = (from: number): void => {
      let i = from;
      for (;;) {
        const l = 2 * i + 1;
        if (l >= size) return;
        const m = l + 1 < size && less(heap[l + 1]!, heap[l]!) ? l + 1 : l;
        if (!less(heap[m]!, heap[i]!)) return;
        const t = heap[i]!;
        heap[i] = heap[m]!;
        heap[m] = t;
        i = m;
      }
    };
    for (let i = (size >> 1) - 1; i >= 0; i--) siftDown(i);
    const prev = new Uint32Array(width);
    let seen = 0;
    let run = 0;
    let values = new Uint32Array(1024 * width);
    let count = 0;
    let extra = 0;
    while (size > 0) {
      const r = heap[0]!;
      const { words, length } = runs[r]!;
      const off = pos[r]! * width;
      if (seen > 0 && compare(words, off, prev, 0, width) === 0) {
        extra++;
        if (++run === 2) {
          if ((count + 1) * width > values.length) {
            const grown = new Uint32Array(values.length * 2);
            grown.set(values);
            values = grown;
          }
          values.set(prev, count * width);
          count++;
        }
      } else {
        for (let k = 0; k < width; k++) prev[k] = words[off + k]!;
        run = 1;
      }
      seen++;
      if (++pos[r]! === length) heap[0] = heap[--size]!;
      siftDown(0);
    }
    return { values: values.subarray(0, count * width), count, extra };
  }
}

/** Bits of the filter that spares most IDs a binary search among the repeated values. */
const FILTER_BITS = 20;

/** A hash of the entry at `off` into FILTER_BITS bits, from its two lowest words. */
function filterSlot(words: Uint32Array, off: number, width: number): number {
  return Math.imul(words[off + width - 1]! ^ Math.imul(words[off + width - 2]!, 0x85ebca6b), 0x9e3779b1) >>> (32 - FILTER_BITS);
}

/** A bit per filter slot, set for the slot of every repeated value: a clear bit means "not repeated". */
function filterOf(x: Repeated, width: number): Uint8Array {
  const bits = new Uint8Array(2 ** FILTER_BITS / 8);
  for (let v = 0; v < x.count; v++) {
    const slot = filterSlot(x.values, v * width, width);
    bits[slot >>> 3]! |= 1 << (slot & 7);
  }
  return bits;
}

/** The index of the entry of `key` at `off` among `count` sorted entries, or -1. */
function find(values: Uint32Array, count: number, key: Uint32Array, off: number, width: number): number {
  let lo = 0;
  let hi = count - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const c = compare(values, mid * width, key, off, width);
    if (c === 0) return mid;
    if (c < 0) lo = mid + 1;
    else hi = mid - 1;
  }
  return -1;
}

/** What the checker knows of one instance while reading the history. */
interface Instance {
  name: string;
  layout: IdLayout | undefined;
  /** The last ID in issue order (`lastWidth` 0: none yet). */
  last: Uint32Array;
  lastWidth: number;
  /** The `n` of the next call to put in order, the calls that came early, and how many IDs they hold. */
  expected: number;
  pending: Map<number, { t: number; count: number; width: number; words: Uint32Array }>;
  pendingIds: number;
}

/** A call's IDs as the history gives them. */
function idsOf(r: HistoryRecord): unknown[] | undefined {
  if (r.ev === 'id') return [r.id];
  if (r.ev === 'ids' && Array.isArray(r.ids)) return r.ids as unknown[];
  return undefined;
}

/**
 * Reads an ID history (records {@link IdRecord}) and counts, exactly:
 * - `duplicate_ids`: IDs returned that had been returned before, by any instance (the extra
 *   copies); per second by the second of the repeat; examples name both instances.
 * - `non_monotonic`: IDs lower than the ID their instance issued just before (issue order from
 *   `n`, else history order); per second by the call's receipt. An equal ID counts as a duplicate only.
 * - `ids_ahead`: IDs whose time runs more than `aheadThresholdMs` ahead of the wall clock at
 *   their receipt (`w`), for IDs that carry a time; per second by receipt.
 * - `id_ahead_max_ms`: the largest (ID time − wall clock at receipt) in ms, negative when every
 *   ID's time was behind; null when no ID carried a time and a `w`.
 * - `unreadable_ids`: IDs that are neither a decimal string up to 2^64 − 1 nor a UUID (a JSON
 *   number among them), or a UUID in a call of decimal IDs and the reverse; they take part in nothing else.
 * Calls that waited (sequence exhaustion, a clock behind) and calls refused are the driver's to
 * count: they are operations with a latency or an error kind, not IDs.
 *
 * Memory, for N IDs: 8 bytes per decimal ID (16 per UUID) in chunks of 2^20 IDs, sorted as
 * they fill (the last one partly used), plus one sort buffer of a chunk's size, and per
 * instance at most 65,536 IDs held back for ordering: 10 million decimal IDs take 10 chunks and
 * the buffer, 88 MiB of array buffers. `history` is read a second time only when there are
 * duplicates, to say where they were; that holds, per distinct repeated value, its 8 (16) bytes
 * (up to twice that while growing), 13 bytes of first sight and a fixed 128 KiB filter.
 */
export async function checkIds(history: () => AsyncIterable<HistoryRecord>, windowMs: number, opts: IdsCheckOptions = {}): Promise<IdsCounts> {
  const threshold = opts.aheadThresholdMs ?? AHEAD_THRESHOLD_MS;
  const chunkEntries = opts.chunkEntries ?? CHUNK_ENTRIES;
  const seconds = Math.ceil(windowMs / 1000);
  const nonMonotonic = new Tally(seconds);
  const ahead = new Tally(seconds);
  const unreadable = new Tally(seconds);
  let maxAhead: number | null = null;
  const columns = { [DECIMAL]: new IdColumn(DECIMAL, chunkEntries), [UUID]: new IdColumn(UUID, chunkEntries) } as Record<number, IdColumn>;
  const instances = new Map<string, Instance>();
  const names: string[] = [];
  let defaultLayout: IdLayout | undefined;
  let scratch = new Uint32Array(64 * UUID);

  const instanceOf = (name: string): Instance => {
    let inst = instances.get(name);
    if (!inst) {
      instances.set(name, (inst = { name, layout: undefined, last: new Uint32Array(UUID), lastWidth: 0, expected: 0, pending: new Map(), pendingIds: 0 }));
      names.push(name);
    }
    return inst;
  };

  /** Puts a call's IDs after the instance's last one, counting each that is lower than the one before it. */
  const follow = (inst: Instance, t: number, words: Uint32Array, k: number, width: number): void => {
    for (let j = 0; j < k; j++) {
      const off = j * width;
      if (inst.lastWidth === width && compare(words, off, inst.last, 0, width) < 0) {
        nonMonotonic.add(t, () => `${inst.name} issued ${idText(words, off, width)} after ${idText(inst.last, 0, width)} (received at ${at(t)})`);
      }
      for (let x = 0; x < width; x++) inst.last[x] = words[off + x]!;
      inst.lastWidth = width;
    }
  };

  const drain = (inst: Instance): void => {
    for (let call = inst.pending.get(inst.expected); call; call = inst.pending.get(inst.expected)) {
      inst.pending.delete(inst.expected);
      inst.pendingIds -= call.words.length / call.width;
      follow(inst, call.t, call.words, call.words.length / call.width, call.width);
      inst.expected += call.count;
    }
  };

  /** Gives up waiting for the lowest missing `n` (its response was lost): continues from the lowest that came. */
  const skipGap = (inst: Instance): void => {
    let lowest = Infinity;
    for (const n of inst.pending.keys()) lowest = Math.min(lowest, n);
    inst.expected = lowest;
    drain(inst);
  };

  for await (const r of history()) {
    if (r.ev === 'id-layout') {
      const layout = r.layout as IdLayout;
      if (typeof r.i === 'string') instanceOf(r.i).layout = layout;
      else defaultLayout = layout;
      continue;
    }
    const ids = idsOf(r);
    if (!ids) continue;
    const inst = instanceOf(typeof r.i === 'string' ? r.i : '(unnamed)');
    const t = r.t;
    if (scratch.length < ids.length * UUID) scratch = new Uint32Array(ids.length * UUID);
    let width = 0;
    let k = 0;
    for (const id of ids) {
      // The first readable ID sets the call's width; until then k is 0 and IDs are read at 0.
      const wd = readId(id, scratch, k * width);
      if (wd === 0 || (width !== 0 && wd !== width)) {
        unreadable.add(t, () => `${inst.name} returned ${JSON.stringify(id)} at ${at(t)}`);
        continue;
      }
      width = wd;
      k++;
    }
    if (k === 0) continue;
    const column = columns[width]!;
    for (let j = 0; j < k; j++) column.push(scratch, j * width);

    const w = r.w;
    const layout = inst.layout ?? defaultLayout ?? (width === UUID ? { kind: 'uuidv7' as const } : undefined);
    if (typeof w === 'number' && layout && (layout.kind === 'uuidv7') === (width === UUID)) {
      for (let j = 0; j < k; j++) {
        const off = j * width;
        if (width === UUID && ((scratch[off + 1]! >>> 12) & 0xf) !== 7) continue;
        const time = timeOfWords(layout, scratch[off]!, scratch[off + 1]!);
        if (time === undefined) continue;
        const by = time - w;
        if (maxAhead === null || by > maxAhead) maxAhead = by;
        if (by > threshold) ahead.add(t, () => `${inst.name} returned ${idText(scratch, off, width)} at ${at(t)}: its time is ${by} ms ahead of the wall clock`);
      }
    }

    const n = r.n;
    if (typeof n !== 'number' || !Number.isInteger(n) || n < 0) {
      follow(inst, t, scratch, k, width);
    } else if (n === inst.expected) {
      follow(inst, t, scratch, k, width);
      inst.expected += ids.length;
      drain(inst);
    } else if (n > inst.expected && !inst.pending.has(n)) {
      inst.pending.set(n, { t, count: ids.length, width, words: scratch.slice(0, k * width) });
      inst.pendingIds += k;
      while (inst.pendingIds > MAX_PENDING_IDS) skipGap(inst);
    }
    // An `n` below the one expected (its place was given up as lost) or seen twice has no place in the order: it is left out of `non_monotonic`.
  }
  for (const inst of instances.values()) while (inst.pending.size > 0) skipGap(inst);

  const duplicates = new Tally(seconds);
  const repeated = [columns[DECIMAL]!.repeated(), columns[UUID]!.repeated()];
  if (repeated.some((x) => x.count > 0)) {
    // Where each repeated value was first seen (the history is in receipt order), then every later copy.
    const first = repeated.map((x, c) => ({ seen: new Uint8Array(x.count), instance: new Uint32Array(x.count), t: new Float64Array(x.count), filter: filterOf(x, c === 0 ? DECIMAL : UUID) }));
    const index = new Map(names.map((name, i) => [name, i]));
    for await (const r of history()) {
      const ids = idsOf(r);
      if (!ids) continue;
      const name = typeof r.i === 'string' ? r.i : '(unnamed)';
      let width = 0;
      for (const id of ids) {
        const wd = readId(id, scratch, 0);
        if (wd === 0 || (width !== 0 && wd !== width)) continue;
        width = wd;
        const x = repeated[wd === DECIMAL ? 0 : 1]!;
        const f = first[wd === DECIMAL ? 0 : 1]!;
        if (x.count === 0) continue;
        const slot = filterSlot(scratch, 0, wd);
        if ((f.filter[slot >>> 3]! & (1 << (slot & 7))) === 0) continue;
        const v = find(x.values, x.count, scratch, 0, wd);
        if (v < 0) continue;
        if (f.seen[v] === 0) {
          f.seen[v] = 1;
          f.instance[v] = index.get(name) ?? 0;
          f.t[v] = r.t;
          continue;
        }
        const firstName = names[f.instance[v]!];
        const firstT = f.t[v]!;
        duplicates.add(r.t, () => `${idText(scratch, 0, wd)} returned by ${name} at ${at(r.t)}, already returned by ${firstName} at ${at(firstT)}`);
      }
    }
  }

  return {
    duplicate_ids: duplicates.result(),
    non_monotonic: nonMonotonic.result(),
    ids_ahead: ahead.result(),
    id_ahead_max_ms: { value: maxAhead, examples: [] },
    unreadable_ids: unreadable.result(),
  };
}

/** The `ids` checker with its options. */
export function idsChecker(opts: IdsCheckOptions = {}): CheckerDefinition {
  const threshold = opts.aheadThresholdMs ?? AHEAD_THRESHOLD_MS;
  return {
    name: 'ids',
    counts: {
      duplicate_ids: { description: 'IDs returned that had been returned before, by any instance (the extra copies), by the second of the repeat', unit: 'count', better: 'lower' },
      non_monotonic: { description: 'IDs lower than the ID their instance issued just before, in issue order, by the second of receipt', unit: 'count', better: 'lower' },
      ids_ahead: { description: `IDs whose embedded time runs more than ${threshold} ms ahead of the wall clock when they were received, by the second of receipt`, unit: 'count', better: 'lower' },
      id_ahead_max_ms: { description: 'how far an ID\'s embedded time ran ahead of the wall clock at its receipt, at most (ms; negative when always behind)', unit: 'count', better: 'lower' },
      unreadable_ids: { description: 'IDs that were neither a decimal string up to 2^64 - 1 nor a UUID, by the second of receipt', unit: 'count', better: 'lower' },
    },
    check: (input) => checkIds(input.history, input.windowMs, opts),
  };
}

/** The `ids` checker with its defaults: duplicates, order per instance, time drift of generated IDs. */
export const idsCheckerDefinition: CheckerDefinition = idsChecker();
