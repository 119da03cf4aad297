import { spawn } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { ACKED, BatchWriter, clockOffsetMs, HANDED_OVER, perfZeroNs, readBatch, RECORD_FIELDS } from './kafka-producer-batch.ts';

describe("the producers' process's batches", () => {
  it('hand over every record written, in order, as long as they are, and start again empty', () => {
    // Room for 2 records: the third and later make it grow.
    const w = new BatchWriter(2);
    const written: number[][] = [];
    for (let s = 1; s <= 5; s++) {
      const r = [s % 2 === 0 ? ACKED : HANDED_OVER, 3, s, 1000.25 + s, 1003.125 + s];
      written.push(r);
      w.push(r[0]!, r[1]!, r[2]!, r[3]!, r[4]!);
    }
    const { data, records } = w.take();
    expect(records).toBe(5);
    expect(data.length).toBe(5 * RECORD_FIELDS);
    const read: number[][] = [];
    readBatch(data, records, (...r) => read.push(r));
    expect(read).toEqual(written);
    expect(w.records).toBe(0);
    w.push(ACKED, 1, 6, 1, 2);
    const next = w.take();
    expect(next.records).toBe(1);
    expect(Array.from(next.data)).toEqual([ACKED, 1, 6, 1, 2]);
    // The batch taken before is its own array: writing on does not change it.
    readBatch(data, 1, (...r) => expect(r).toEqual(written[0]));
  });
});

describe('the clock offset between two processes', () => {
  it('is the difference of their zeros on the monotonic clock', () => {
    expect(clockOffsetMs(5_000_000n, 20_250_000n)).toBe(15.25);
    expect(clockOffsetMs(20_250_000n, 5_000_000n)).toBe(-15.25);
  });

  it("turns another process's performance.now() into a time between this process's readings before and after it", { timeout: 30_000 }, async () => {
    // The other process reads its clock when asked and answers with the reading converted; the
    // reading happened after this process's `before` and before its `after`, so the converted
    // time must lie between them (to the offset's rounding to a nanosecond).
    const child = spawn(process.execPath, ['--input-type=module', '-e', `
        import { clockOffsetMs, perfZeroNs } from ${JSON.stringify(new URL('./kafka-producer-batch.ts', import.meta.url).href)};
        process.on('message', (m) => {
          const offset = clockOffsetMs(m.mainZeroNs, perfZeroNs());
          process.send({ raw: performance.now(), converted: performance.now() + offset });
          process.disconnect();
        });
      `], { stdio: ['ignore', 'inherit', 'inherit', 'ipc'], serialization: 'advanced' });
    const answer = new Promise<{ raw: number; converted: number }>((resolve) => child.once('message', resolve));
    await new Promise((resolve) => child.once('spawn', resolve));
    const before = performance.now();
    child.send({ mainZeroNs: perfZeroNs() });
    const { raw, converted } = await answer;
    const after = performance.now();
    await new Promise((resolve) => (child.exitCode === null ? child.once('exit', resolve) : resolve(undefined)));
    expect(converted).toBeGreaterThanOrEqual(before - 1e-6);
    expect(converted).toBeLessThanOrEqual(after + 1e-6);
    // Unconverted, its clock began later than this process's: its readings are smaller.
    expect(raw).toBeLessThan(converted);
  });
});
