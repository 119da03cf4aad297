import { describe, expect, it } from 'vitest';
import {
  ClockMovedBackError,
  IdIssuer,
  SNOWFLAKE_EPOCH_MS,
  SnowflakeGenerator,
  SonyflakeGenerator,
  Uuidv7Generator,
  createGenerator,
  decimalIdWords,
  decodeSnowflake,
  decodeSonyflake,
  decodeUuidv7,
  idTimeMs,
  issueIds,
  timeOfWords,
  type ClockBackPolicy,
  type IdGenerator,
} from './generators.ts';

/** A clock the test moves by hand; `sleep` moves it by the time slept. */
function manualClock(start: number) {
  const c = {
    now: start,
    read: () => c.now,
    sleep: async (ms: number) => {
      c.now += ms;
    },
  };
  return c;
}

const EPOCH = 1_600_000_000_000;
const T = 1_700_000_000_000;

/** A snowflake ID from its fields, by the layout's arithmetic (not the generator's code). */
function snowflakeId(ms: number, worker: number, seq: number): string {
  return (BigInt(ms - EPOCH) * 4_194_304n + BigInt(worker) * 4096n + BigInt(seq)).toString();
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from }, (_, i) => from + i);
}

/** The extra copies among `ids`: each ID as many times as it repeats. */
function repeats(ids: readonly string[]): string[] {
  const seen = new Set<string>();
  const out: string[] = [];
  for (const id of ids) {
    if (seen.has(id)) out.push(id);
    else seen.add(id);
  }
  return out;
}

/**
 * The clock-back script: 5 IDs in each ms T..T+9, then the clock is set back 4 ms (it reads
 * T+6 where T+10 was due) and runs on, one call of 3 IDs per ms, 7 calls.
 */
async function clockBackScript(policy: ClockBackPolicy) {
  const clock = manualClock(T);
  const gen = new SnowflakeGenerator({ clock: clock.read, workerId: 7, epochMs: EPOCH, clockBack: policy });
  const ids: string[] = [];
  for (const ms of range(T, T + 10)) {
    clock.now = ms;
    ids.push(...(await issueIds(gen, 5, { clock: clock.read, sleep: clock.sleep })).ids);
  }
  clock.now = T + 6;
  const calls: { ok: boolean; waits: { sequence: number; clockBack: number }; sleptMs: number }[] = [];
  for (let call = 0; call < 7; call++) {
    try {
      const issued = await issueIds(gen, 3, { clock: clock.read, sleep: clock.sleep });
      ids.push(...issued.ids);
      calls.push({ ok: true, waits: issued.waits, sleptMs: issued.sleptMs });
    } catch (err) {
      if (!(err instanceof ClockMovedBackError)) throw err;
      expect(err.lastMs).toBe(T + 9);
      expect(err.nowMs).toBe(clock.now);
      calls.push({ ok: false, waits: { sequence: 0, clockBack: 0 }, sleptMs: 0 });
    }
    clock.now += 1;
  }
  return { ids, calls, stats: { ...gen.stats } };
}

const before = range(T, T + 10).flatMap((ms) => range(0, 5).map((s) => snowflakeId(ms, 7, s)));

describe('snowflake', () => {
  it('lays out 41 bits of ms since the epoch, 10 of worker, 12 of sequence', () => {
    const clock = manualClock(SNOWFLAKE_EPOCH_MS + 1);
    const gen = new SnowflakeGenerator({ clock: clock.read, workerId: 1 });
    // 1 << 22 | 1 << 12 | 0, then | 1.
    expect(gen.take(2)).toEqual({ ids: ['4198400', '4198401'] });
    expect(decodeSnowflake('4198401')).toEqual({ timeMs: SNOWFLAKE_EPOCH_MS + 1, workerId: 1, sequence: 1 });
    clock.now = T;
    const big = new SnowflakeGenerator({ clock: clock.read, workerId: 1023, epochMs: EPOCH }).take(1).ids[0]!;
    expect(big).toBe(snowflakeId(T, 1023, 0));
    expect(BigInt(big) > 2n ** 53n).toBe(true);
    const [hi, lo] = decimalIdWords(big)!;
    expect(timeOfWords({ kind: 'snowflake', epochMs: EPOCH }, hi, lo)).toBe(T);
    expect(idTimeMs({ kind: 'snowflake', epochMs: EPOCH }, big)).toBe(T);
  });

  it('with no clock-back guard, a jump back of 4 ms replays those ms: exactly the IDs issued in them before are issued again', async () => {
    const { ids, calls, stats } = await clockBackScript('none');
    const replayed = range(T + 6, T + 10).flatMap((ms) => range(0, 3).map((s) => snowflakeId(ms, 7, s)));
    const after = range(T + 10, T + 13).flatMap((ms) => range(0, 3).map((s) => snowflakeId(ms, 7, s)));
    expect(ids).toEqual([...before, ...replayed, ...after]);
    expect(repeats(ids)).toEqual(replayed);
    expect(repeats(ids)).toHaveLength(12);
    expect(calls.every((c) => c.ok && c.sleptMs === 0)).toBe(true);
    expect(stats).toEqual({ issued: 71, sequenceWaits: 0, clockBacks: 1, refused: 0 });
  });

  it('waiting for the clock gives no duplicate: the first call after the jump sleeps 3 ms and continues the last ms', async () => {
    const { ids, calls, stats } = await clockBackScript('wait');
    // The first call waits from T+6 to T+9 and takes sequence 5..7 of T+9; the clock then reads T+10.
    const after = [...range(5, 8).map((s) => snowflakeId(T + 9, 7, s)), ...range(T + 10, T + 16).flatMap((ms) => range(0, 3).map((s) => snowflakeId(ms, 7, s)))];
    expect(ids).toEqual([...before, ...after]);
    expect(repeats(ids)).toEqual([]);
    expect(calls[0]).toEqual({ ok: true, waits: { sequence: 0, clockBack: 1 }, sleptMs: 3 });
    expect(calls.slice(1).every((c) => c.ok && c.sleptMs === 0)).toBe(true);
    expect(stats).toEqual({ issued: 71, sequenceWaits: 0, clockBacks: 1, refused: 0 });
  });

  it('refusing gives no duplicate: calls while the clock is behind fail, then the last ms continues', async () => {
    const { ids, calls, stats } = await clockBackScript('refuse');
    expect(calls.map((c) => c.ok)).toEqual([false, false, false, true, true, true, true]);
    const after = [...range(5, 8).map((s) => snowflakeId(T + 9, 7, s)), ...range(T + 10, T + 13).flatMap((ms) => range(0, 3).map((s) => snowflakeId(ms, 7, s)))];
    expect(ids).toEqual([...before, ...after]);
    expect(repeats(ids)).toEqual([]);
    expect(stats).toEqual({ issued: 62, sequenceWaits: 0, clockBacks: 1, refused: 3 });
  });

  it('counts one clock-back however often it is asked while behind', () => {
    const clock = manualClock(T + 5);
    const gen = new SnowflakeGenerator({ clock: clock.read, workerId: 0, epochMs: EPOCH, clockBack: 'wait' });
    gen.take(1);
    clock.now = T + 2;
    expect(gen.take(1)).toEqual({ ids: [], retry: { atMs: T + 5, reason: 'clock-back' } });
    expect(gen.take(4)).toEqual({ ids: [], retry: { atMs: T + 5, reason: 'clock-back' } });
    expect(gen.stats.clockBacks).toBe(1);
  });

  it('two generators with the same worker id and clock issue the same IDs: exactly the overlap repeats', () => {
    const clock = manualClock(T);
    const a = new SnowflakeGenerator({ clock: clock.read, workerId: 7, epochMs: EPOCH });
    const b = new SnowflakeGenerator({ clock: clock.read, workerId: 7, epochMs: EPOCH });
    const c = new SnowflakeGenerator({ clock: clock.read, workerId: 8, epochMs: EPOCH });
    const ab: string[] = [];
    const ac: string[] = [];
    for (const ms of range(T, T + 10)) {
      clock.now = ms;
      const fromA = a.take(5).ids;
      ab.push(...fromA, ...b.take(3).ids);
      ac.push(...fromA, ...c.take(3).ids);
    }
    expect(repeats(ab)).toEqual(range(T, T + 10).flatMap((ms) => range(0, 3).map((s) => snowflakeId(ms, 7, s))));
    expect(repeats(ab)).toHaveLength(30);
    expect(repeats(ac)).toEqual([]);
  });

  it('runs out of its 4,096 sequence numbers in a ms and waits for the next, counting each wait', async () => {
    const clock = manualClock(T);
    const gen = new SnowflakeGenerator({ clock: clock.read, workerId: 3, epochMs: EPOCH });
    const issued = await issueIds(gen, 10_000, { clock: clock.read, sleep: clock.sleep });
    const expected = [...range(0, 4096).map((s) => snowflakeId(T, 3, s)), ...range(0, 4096).map((s) => snowflakeId(T + 1, 3, s)), ...range(0, 1808).map((s) => snowflakeId(T + 2, 3, s))];
    expect(issued.ids).toEqual(expected);
    expect(issued.waits).toEqual({ sequence: 2, clockBack: 0 });
    expect(issued.sleptMs).toBe(2);
    expect(gen.stats).toEqual({ issued: 10_000, sequenceWaits: 2, clockBacks: 0, refused: 0 });
    for (let i = 1; i < issued.ids.length; i++) expect(BigInt(issued.ids[i]!) > BigInt(issued.ids[i - 1]!)).toBe(true);
  });

  it('refuses a clock before its epoch or past its 41 bits, and a worker id past 10 bits', () => {
    const clock = manualClock(EPOCH - 1);
    expect(() => new SnowflakeGenerator({ clock: clock.read, workerId: 0, epochMs: EPOCH }).take(1)).toThrow(/outside the 41-bit time space/);
    clock.now = EPOCH + 2 ** 41;
    expect(() => new SnowflakeGenerator({ clock: clock.read, workerId: 0, epochMs: EPOCH }).take(1)).toThrow(/outside the 41-bit time space/);
    expect(() => new SnowflakeGenerator({ clock: clock.read, workerId: 1024 })).toThrow(/workerId must be an integer in \[0, 1023\]/);
  });
});

describe('IdIssuer', () => {
  it('takes overlapping calls one at a time, so each call gets a contiguous run of IDs and its n', async () => {
    const clock = manualClock(T);
    const opts = { clock: clock.read, sleep: clock.sleep };
    // Without it: the first call runs out of sequence in T and sleeps; the second takes the start of T+1.
    const bare = new SnowflakeGenerator({ clock: clock.read, workerId: 1, epochMs: EPOCH });
    const [a, b] = await Promise.all([issueIds(bare, 5000, opts), issueIds(bare, 10, opts)]);
    expect(a.ids).toEqual([...range(0, 4096).map((s) => snowflakeId(T, 1, s)), ...range(10, 914).map((s) => snowflakeId(T + 1, 1, s))]);
    expect(b.ids).toEqual(range(0, 10).map((s) => snowflakeId(T + 1, 1, s)));

    clock.now = T + 100;
    const issuer = new IdIssuer(new SnowflakeGenerator({ clock: clock.read, workerId: 1, epochMs: EPOCH }), opts);
    const calls = await Promise.all([issuer.issue(5000), issuer.issue(10), issuer.issue(3)]);
    expect(calls.map((c) => c.n)).toEqual([0, 5000, 5010]);
    expect(calls.flatMap((c) => c.ids)).toEqual([...range(0, 4096).map((s) => snowflakeId(T + 100, 1, s)), ...range(0, 917).map((s) => snowflakeId(T + 101, 1, s))]);
    expect(calls.map((c) => c.waits)).toEqual([{ sequence: 1, clockBack: 0 }, { sequence: 0, clockBack: 0 }, { sequence: 0, clockBack: 0 }]);
    expect(issuer.issued).toBe(5013);
  });

  it('numbers only the IDs it handed out: a refused call takes no n', async () => {
    const clock = manualClock(T + 5);
    const issuer = new IdIssuer(new SnowflakeGenerator({ clock: clock.read, workerId: 1, epochMs: EPOCH, clockBack: 'refuse' }), { clock: clock.read, sleep: clock.sleep });
    expect((await issuer.issue(2)).n).toBe(0);
    clock.now = T + 1;
    await expect(issuer.issue(2)).rejects.toThrow(ClockMovedBackError);
    clock.now = T + 6;
    expect(await issuer.issue(1)).toMatchObject({ n: 2, ids: [snowflakeId(T + 6, 1, 0)] });
  });
});

describe('sonyflake', () => {
  it('lays out 39 bits of 10 ms units, then 8 of sequence, then 16 of machine id', () => {
    const clock = manualClock(EPOCH + 12_345);
    const gen = new SonyflakeGenerator({ clock: clock.read, machineId: 0xbeef, epochMs: EPOCH });
    // 1234 << 24 | 0 << 16 | 0xbeef, then sequence 1.
    expect(gen.take(2)).toEqual({ ids: ['20703133423', '20703198959'] });
    expect(decodeSonyflake('20703198959', EPOCH)).toEqual({ timeMs: EPOCH + 12_340, sequence: 1, machineId: 0xbeef });
    expect(timeOfWords(gen.layout, ...decimalIdWords('20703198959')!)).toBe(EPOCH + 12_340);
  });

  it('issues 256 IDs per 10 ms unit, then waits for the next unit', () => {
    const clock = manualClock(EPOCH + 12_345);
    const gen = new SonyflakeGenerator({ clock: clock.read, machineId: 1, epochMs: EPOCH });
    const first = gen.take(300);
    expect(first.ids).toHaveLength(256);
    expect(first.retry).toEqual({ atMs: EPOCH + 12_350, reason: 'sequence' });
    expect(decodeSonyflake(first.ids[255]!, EPOCH)).toEqual({ timeMs: EPOCH + 12_340, sequence: 255, machineId: 1 });
    clock.now = EPOCH + 12_350;
    const next = gen.take(44);
    expect(next.ids.map((id) => decodeSonyflake(id, EPOCH).sequence)).toEqual(range(0, 44));
    expect(decodeSonyflake(next.ids[0]!, EPOCH).timeMs).toBe(EPOCH + 12_350);
    expect(gen.stats.sequenceWaits).toBe(1);
  });
});

describe('uuidv7', () => {
  const filled = (byte: number) => (into: Uint8Array) => void into.fill(byte);

  it('lays out 48 bits of ms, version 7, the rand_a counter, variant 10 and 62 random bits', () => {
    const clock = manualClock(1_700_000_000_123);
    const gen = new Uuidv7Generator({ clock: clock.read, random: filled(0xab) });
    // Counter seed 0xabab & 0x7ff = 0x3ab; rand_b's first byte 0x80 | (0xab & 0x3f) = 0xab.
    expect(gen.take(3).ids).toEqual(['018bcfe5-687b-73ab-abab-abababababab', '018bcfe5-687b-73ac-abab-abababababab', '018bcfe5-687b-73ad-abab-abababababab']);
    expect(decodeUuidv7('018bcfe5-687b-73ad-abab-abababababab')).toEqual({ timeMs: 1_700_000_000_123, version: 7, variant: 2, counter: 0x3ad });
  });

  it('decodes the example UUIDv7 of RFC 9562 appendix A.6', () => {
    expect(decodeUuidv7('017F22E2-79B0-7CC3-98C4-DC0C0C07398F')).toEqual({ timeMs: 1_645_557_742_000, version: 7, variant: 2, counter: 0xcc3 });
  });

  it('is monotonic within a ms through its counter and waits when the counter runs out', () => {
    const clock = manualClock(T);
    const gen = new Uuidv7Generator({ clock: clock.read, random: filled(0xff) });
    // The seed is 0x7ff: 4096 - 2047 = 2049 IDs fit in the ms.
    const first = gen.take(3000);
    expect(first.ids).toHaveLength(2049);
    expect(first.retry).toEqual({ atMs: T + 1, reason: 'sequence' });
    clock.now = T + 1;
    const ids = [...first.ids, ...gen.take(10).ids];
    expect(ids.map((id) => decodeUuidv7(id).counter)).toEqual([...range(0x7ff, 4096), ...range(0x7ff, 0x7ff + 10)]);
    expect([...ids].sort()).toEqual(ids);
    expect(new Set(ids).size).toBe(ids.length);
    expect(idTimeMs(gen.layout, ids.at(-1)!)).toBe(T + 1);
  });

  it('with real random bits, stays unique across instances whose clocks are the same', () => {
    const clock = manualClock(T);
    const a = new Uuidv7Generator({ clock: clock.read });
    const b = new Uuidv7Generator({ clock: clock.read });
    const ids = [...a.take(1000).ids, ...b.take(1000).ids];
    expect(new Set(ids).size).toBe(2000);
    for (const id of ids) expect(decodeUuidv7(id)).toMatchObject({ timeMs: T, version: 7, variant: 2 });
  });
});

describe('options and decoding', () => {
  it('makes each generator from its options, with the stated default policies', () => {
    const clock = manualClock(T);
    const make = (o: Parameters<typeof createGenerator>[0]): IdGenerator => createGenerator(o, clock.read);
    const gens = [make({ kind: 'snowflake', workerId: 1, epochMs: EPOCH }), make({ kind: 'sonyflake', machineId: 1, epochMs: EPOCH }), make({ kind: 'uuidv7' })];
    for (const g of gens) g.take(1);
    clock.now = T - 100;
    expect(() => gens[0]!.take(1)).toThrow(ClockMovedBackError);
    expect(gens[1]!.take(1).retry?.reason).toBe('clock-back');
    expect(gens[2]!.take(1).retry?.reason).toBe('clock-back');
  });

  it('splits a decimal ID into two 32-bit words, up to 2^64 - 1', () => {
    expect(decimalIdWords('18446744073709551615')).toEqual([0xffffffff, 0xffffffff]);
    expect(decimalIdWords('9007199254740993')).toEqual([2 ** 21, 1]);
    expect(decimalIdWords('0')).toEqual([0, 0]);
    expect(decimalIdWords('18446744073709551616')).toBeUndefined();
    expect(decimalIdWords('12a')).toBeUndefined();
    expect(decimalIdWords('')).toBeUndefined();
    expect(decimalIdWords('-1')).toBeUndefined();
  });
});
