import { describe, expect, it } from 'vitest';
import { IdIssuer, SnowflakeGenerator, type ClockBackPolicy } from '../../targets/id-service/generators.ts';
import type { HistoryRecord } from '../metrics/sink.ts';
import { checkIds, idsCheckerDefinition } from './ids.ts';

async function* records(list: readonly HistoryRecord[]): AsyncGenerator<HistoryRecord> {
  yield* list;
}

const EPOCH = 1_600_000_000_000;
const T = 1_700_000_000_000;

/** A snowflake ID from its fields, by the layout's arithmetic. */
function sf(ms: number, worker: number, seq: number): string {
  return (BigInt(ms - EPOCH) * 4_194_304n + BigInt(worker) * 4096n + BigInt(seq)).toString();
}

const layout: HistoryRecord = { t: -1000, ev: 'id-layout', layout: { kind: 'snowflake', epochMs: EPOCH } };
const one = (t: number, i: string, id: unknown, w?: number, n?: number): HistoryRecord => ({ t, ev: 'id', i, id, ...(w === undefined ? {} : { w }), ...(n === undefined ? {} : { n }) });
const batch = (t: number, i: string, ids: unknown[], w?: number, n?: number): HistoryRecord => ({ t, ev: 'ids', i, ids, ...(w === undefined ? {} : { w }), ...(n === undefined ? {} : { n }) });

describe('checkIds', () => {
  it('counts duplicates across instances, IDs lower than the one before, IDs ahead of the wall clock and unreadable IDs, per second', async () => {
    const history = [
      layout,
      one(100, 'a', sf(T, 1, 0), T + 1),
      batch(200, 'b', [sf(T, 2, 0), sf(T, 2, 1)], T + 2),
      // a repeats its own ID: a duplicate, not lower than the one before.
      one(300, 'a', sf(T, 1, 0), T + 3),
      // b's clock runs 500 ms ahead: its ID carries T+500 when the wall clock reads T+5.
      one(1200, 'b', sf(T + 500, 2, 0), T + 5),
      // Then b goes back: a duplicate of its own, and lower than the one before it.
      one(1300, 'b', sf(T, 2, 1), T + 6),
      // a returns what b returned first.
      one(1400, 'a', sf(T, 2, 0), T + 7),
      // Beyond 64 bits, and a JSON number.
      batch(1500, 'a', ['18446744073709551616', 5], T + 8),
      // In the drain after the 2 s window: in the totals, not per second.
      one(2100, 'b', sf(T, 1, 0), T + 9),
      // Records this checker does not read.
      { t: 50, key: 'k', by: 'b' },
    ];
    const counts = await checkIds(() => records(history), 2000);
    expect(counts.duplicate_ids).toEqual({
      value: 4,
      perSecond: [1, 2],
      examples: [
        `${sf(T, 1, 0)} returned by a at 0.30s, already returned by a at 0.10s`,
        `${sf(T, 2, 1)} returned by b at 1.30s, already returned by b at 0.20s`,
        `${sf(T, 2, 0)} returned by a at 1.40s, already returned by b at 0.20s`,
        `${sf(T, 1, 0)} returned by b at 2.10s, already returned by a at 0.10s`,
      ],
    });
    expect(counts.non_monotonic).toEqual({ value: 2, perSecond: [0, 1], examples: [`b issued ${sf(T, 2, 1)} after ${sf(T + 500, 2, 0)} (received at 1.30s)`, `b issued ${sf(T, 1, 0)} after ${sf(T, 2, 1)} (received at 2.10s)`] });
    expect(counts.ids_ahead).toEqual({ value: 1, perSecond: [0, 1], examples: [`b returned ${sf(T + 500, 2, 0)} at 1.20s: its time is 495 ms ahead of the wall clock`] });
    expect(counts.id_ahead_max_ms).toEqual({ value: 495, examples: [] });
    expect(counts.unreadable_ids).toEqual({ value: 2, perSecond: [0, 2], examples: ['a returned "18446744073709551616" at 1.50s', 'a returned 5 at 1.50s'] });
  });

  it('puts each instance back in issue order by n: calls that crossed on the way are not out of order, a real step back is', async () => {
    const id = (k: number) => sf(T, 1, k);
    // a issued 0, then 1-2, then 3-4; the response of 1-2 arrived last. b issued 9 then 8; they arrived 8, 9.
    const withN = [one(10, 'a', id(0), undefined, 0), batch(20, 'a', [id(3), id(4)], undefined, 3), batch(30, 'a', [id(1), id(2)], undefined, 1), one(40, 'b', id(8), undefined, 1), one(50, 'b', id(9), undefined, 0)];
    const byN = await checkIds(() => records(withN), 1000);
    expect(byN.non_monotonic).toEqual({ value: 1, perSecond: [1], examples: [`b issued ${id(8)} after ${id(9)} (received at 0.04s)`] });
    // Without n the history's order is all there is: a's late response looks like a step back, b's does not.
    const withoutN = withN.map(({ n: _, ...r }) => r);
    const byArrival = await checkIds(() => records(withoutN), 1000);
    expect(byArrival.non_monotonic).toEqual({ value: 1, perSecond: [1], examples: [`a issued ${id(1)} after ${id(4)} (received at 0.03s)`] });
    // A call that never arrived (n 1-2 lost): the order continues after it at the end of the history.
    const lost = [one(10, 'a', id(0), undefined, 0), batch(20, 'a', [id(3), id(4)], undefined, 3), one(30, 'a', id(2), undefined, 5)];
    expect((await checkIds(() => records(lost), 1000)).non_monotonic.value).toBe(1);
  });

  it('shows why IDs travel as decimal strings: parsed as JSON numbers, distinct IDs above 2^53 collapse into false duplicates', async () => {
    // 2^60 + j for j = 0..1023: doubles there are 256 apart, so they round (ties to even) to
    // 2^60 + 0 (j ≤ 128), +256 (129..383), +512 (384..640), +768 (641..895), +1024 (896..1023):
    // 5 distinct numbers, 1019 false duplicates. Also 2^53 + 1, which reads as 2^53.
    const ids = [...Array.from({ length: 1024 }, (_, j) => (2n ** 60n + BigInt(j)).toString()), (2n ** 53n).toString(), (2n ** 53n + 1n).toString()];
    const asNumbers = `{"ids":[${ids.join(',')}]}`;
    const asStrings = JSON.stringify({ ids });
    const viaNumber = (JSON.parse(asNumbers) as { ids: number[] }).ids.map(String);
    const viaString = (JSON.parse(asStrings) as { ids: string[] }).ids;
    expect(viaNumber.at(-1)).toBe('9007199254740992');
    const falseDuplicates = await checkIds(() => records([batch(10, 'a', viaNumber)]), 1000);
    expect(falseDuplicates.duplicate_ids.value).toBe(1020);
    const exact = await checkIds(() => records([batch(10, 'a', viaString)]), 1000);
    expect(exact.duplicate_ids.value).toBe(0);
    expect(exact.non_monotonic.value).toBe(1); // 2^53 after 2^60 + 1023: the same list, in the order given.
  });

  it('compares UUIDs on all 128 bits and reads a UUIDv7 time without a layout record', async () => {
    const u = (ms: number, tail: string) => `${ms.toString(16).padStart(12, '0').replace(/^(.{8})/, '$1-')}-7000-8000-${tail}`;
    const history = [
      one(100, 'a', u(T, '000000000001'), T),
      // The same first 64 bits, a different last 64: not a duplicate.
      one(200, 'b', u(T, '000000000000'), T),
      // The same UUID in upper case from another instance: a duplicate.
      one(300, 'b', u(T, '000000000001').toUpperCase(), T),
      // 2 s ahead.
      one(400, 'a', u(T + 2000, '000000000003'), T),
    ];
    const counts = await checkIds(() => records(history), 1000);
    expect(counts.duplicate_ids).toEqual({ value: 1, perSecond: [1], examples: [`${u(T, '000000000001')} returned by b at 0.30s, already returned by a at 0.10s`] });
    expect(counts.ids_ahead.value).toBe(1);
    expect(counts.id_ahead_max_ms.value).toBe(2000);
    expect(counts.non_monotonic.value).toBe(0);
  });

  it('finds exactly the 1,000 duplicates planted among 1,000,000 IDs above 2^59, and keeps the earliest examples', async () => {
    const { history, planted } = plantedHistory(1_000_000, 1000, 4);
    const counts = await checkIds(history, 2000);
    expect(planted).toBe(1000);
    expect(counts.duplicate_ids.value).toBe(1000);
    expect(counts.duplicate_ids.perSecond).toEqual([500, 500]);
    expect(counts.duplicate_ids.examples).toHaveLength(10);
    expect(counts.duplicate_ids.examples[0]).toBe('1000000000000000499 returned by id-0 at 0.00s, already returned by id-0 at 0.00s');
    expect(counts.duplicate_ids.examples[1]).toBe('1000000000000001499 returned by id-1 at 0.00s, already returned by id-1 at 0.00s');
    // Each planted ID is also lower than the one its instance issued before it.
    expect(counts.non_monotonic.value).toBe(1000);
    expect(counts.unreadable_ids.value).toBe(0);
  });

  it('merges many sorted chunks to the same exact count', async () => {
    const { history } = plantedHistory(200_000, 1000, 3);
    const counts = await checkIds(history, 1000, { chunkEntries: 4096 });
    expect(counts.duplicate_ids.value).toBe(200);
    expect(counts.non_monotonic.value).toBe(200);
  });
});

/**
 * `count` IDs 10^18 + i in batch records of `size`, instances `id-0`.. in turn, each record at
 * t = 2 ms × its index and carrying `n`; in every batch the last ID repeats the one 500 before
 * it (10^18 + that index), so each batch holds exactly one duplicate.
 */
function plantedHistory(count: number, size: number, instances: number): { history: () => AsyncIterable<HistoryRecord>; planted: number } {
  const planted = count / size;
  async function* history(): AsyncGenerator<HistoryRecord> {
    const next = new Array<number>(instances).fill(0);
    for (let r = 0; r < count / size; r++) {
      const ids: string[] = [];
      for (let j = 0; j < size; j++) {
        const i = r * size + (j === size - 1 ? j - 500 : j);
        ids.push(`1${String(i).padStart(18, '0')}`);
      }
      const inst = r % instances;
      yield { t: r * 2, ev: 'ids', i: `id-${inst}`, ids, n: next[inst] };
      next[inst]! += size;
    }
  }
  return { history, planted };
}

describe('checkIds over real generators', () => {
  /**
   * id-1 (worker 7) issues 5 IDs in each ms T..T+9, then its clock is set back 4 ms and it
   * issues 3 in each of the next 7 ms. With `collide`, id-2 also has worker 7 and issues 2 IDs in
   * each ms T..T+9 on the same clock. The history has one record per call, `w` the true wall time.
   */
  async function run(policy: ClockBackPolicy, collide: boolean) {
    const clock = { now: T };
    const read = () => clock.now;
    const sleep = async (ms: number) => {
      clock.now += ms;
    };
    const issuer = () => new IdIssuer(new SnowflakeGenerator({ clock: read, workerId: 7, epochMs: EPOCH, clockBack: policy }), { clock: read, sleep });
    const g1 = issuer();
    const g2 = issuer();
    const history: HistoryRecord[] = [layout];
    const call = async (i: string, g: IdIssuer, count: number, wall: number) => {
      const { ids, n } = await g.issue(count);
      history.push(batch((wall - T) * 10, i, ids, wall, n));
    };
    for (let ms = T; ms < T + 10; ms++) {
      clock.now = ms;
      await call('id-1', g1, 5, ms);
      if (collide) await call('id-2', g2, 2, ms);
    }
    // The true time runs on from T+10 while id-1 reads 4 ms less.
    for (let k = 0; k < 7; k++) {
      clock.now = T + 6 + k;
      await call('id-1', g1, 3, T + 10 + k);
    }
    return checkIds(() => records(history), 1000);
  }

  it('no clock-back guard: the 12 IDs of the replayed ms repeat, and one ID steps back', async () => {
    const counts = await run('none', false);
    expect(counts.duplicate_ids.value).toBe(12);
    expect(counts.duplicate_ids.examples[0]).toBe(`${sf(T + 6, 7, 0)} returned by id-1 at 0.10s, already returned by id-1 at 0.06s`);
    expect(counts.non_monotonic).toEqual({ value: 1, perSecond: [1], examples: [`id-1 issued ${sf(T + 6, 7, 0)} after ${sf(T + 9, 7, 4)} (received at 0.10s)`] });
    // Replayed IDs carry times 4 ms behind the wall clock; none is ahead.
    expect(counts.id_ahead_max_ms.value).toBe(0);
    expect(counts.ids_ahead.value).toBe(0);
  });

  it('waiting for the clock: no duplicate, nothing out of order', async () => {
    const counts = await run('wait', false);
    expect(counts.duplicate_ids.value).toBe(0);
    expect(counts.non_monotonic.value).toBe(0);
  });

  it('a worker-id collision on top of the clock jump: the extra copies add up exactly', async () => {
    // id-2's 2 IDs per ms (sequence 0, 1) copy id-1's for T..T+9: 20. id-1's replay of T+6..T+9
    // (sequence 0..2) copies them again: 4 ms × 3 = 12. Total 32.
    expect((await run('none', true)).duplicate_ids.value).toBe(32);
    // With waiting, only the collision is left.
    expect((await run('wait', true)).duplicate_ids.value).toBe(20);
  });

  it('is a checker returning every count it declares', async () => {
    const found = await idsCheckerDefinition.check({ history: () => records([one(10, 'a', '1'), one(20, 'a', '1')]), faults: [], windowMs: 1000 });
    expect(Object.keys(found).sort()).toEqual(Object.keys(idsCheckerDefinition.counts).sort());
    expect(found.duplicate_ids!.value).toBe(1);
  });
});

describe('checkIds at 10 million IDs', () => {
  it('finds exactly the planted duplicates in bounded memory: at most 96 MiB of typed arrays (8 bytes per decimal ID and one chunk) and 128 MiB of heap', async () => {
    const TOTAL = 10_000_000;
    const BATCH = 100;
    const PLANTED = 100;
    const every = TOTAL / PLANTED;
    let base = process.memoryUsage();
    let peak = { arrayBuffers: base.arrayBuffers, heapUsed: base.heapUsed };
    const sample = () => {
      const m = process.memoryUsage();
      peak = { arrayBuffers: Math.max(peak.arrayBuffers, m.arrayBuffers), heapUsed: Math.max(peak.heapUsed, m.heapUsed) };
    };
    // Four snowflake workers at 1,000 IDs per ms each; the last ID of every (every/BATCH)-th batch
    // repeats the one 50 before it. Memory is sampled as the checker pulls records, in each of its passes.
    async function* history(): AsyncGenerator<HistoryRecord> {
      let now = T;
      const gens = Array.from({ length: 4 }, (_, w) => new SnowflakeGenerator({ clock: () => now, workerId: w, epochMs: EPOCH }));
      const next = [0, 0, 0, 0];
      yield layout;
      for (let b = 0; b < TOTAL / BATCH; b++) {
        now = T + Math.floor(b / 40);
        const inst = b % 4;
        const { ids } = gens[inst]!.take(BATCH);
        if (((b + 1) * BATCH) % every === 0) ids[BATCH - 1] = ids[BATCH - 51]!;
        yield { t: b / 100, ev: 'ids', i: `id-${inst}`, ids, n: next[inst], w: now };
        next[inst]! += BATCH;
        if (b % 1000 === 0) sample();
      }
      sample();
    }
    (globalThis as { gc?: () => void }).gc?.();
    base = process.memoryUsage();
    peak = { arrayBuffers: base.arrayBuffers, heapUsed: base.heapUsed };
    const counts = await checkIds(history, 10_000);
    sample();
    expect(counts.duplicate_ids.value).toBe(PLANTED);
    expect(counts.unreadable_ids.value).toBe(0);
    // 88 MiB of typed arrays and ~13 MiB of heap here; a Set of the same IDs as strings holds ~870 MiB of heap.
    expect(peak.arrayBuffers - base.arrayBuffers).toBeLessThanOrEqual(96 * 2 ** 20);
    expect(peak.heapUsed - base.heapUsed).toBeLessThanOrEqual(128 * 2 ** 20);
  }, 120_000);
});
