import { describe, expect, it } from 'vitest';
import { IncrIssuer, SegmentIssuer, type IncrBy } from './counters.ts';

/** A counter the test holds, with every INCRBY it was asked for; `fail` makes the next calls fail. */
interface TestCounter {
  value: bigint;
  calls: number[];
  fail: boolean;
  incrBy: IncrBy;
}

function counter(): TestCounter {
  const c: TestCounter = {
    value: 0n,
    calls: [],
    fail: false,
    incrBy: (async (by: number) => {
      await Promise.resolve();
      if (c.fail) throw new Error('redis down');
      c.calls.push(by);
      c.value += BigInt(by);
      return c.value;
    }) as IncrBy,
  };
  return c;
}

describe('counter-based issuers', () => {
  it('redis-incr: one INCRBY per call, the call\'s IDs the range it owns', async () => {
    const c = counter();
    const issuer = new IncrIssuer(c.incrBy);
    const a = await issuer.issue(3);
    const b = await issuer.issue(1);
    expect(a).toEqual({ ids: ['1', '2', '3'], n: 0 });
    expect(b).toEqual({ ids: ['4'], n: 3 });
    expect(c.calls).toEqual([3, 1]);
  });

  it('segment: serves from memory, fetches the next range once a tenth is used, and never asks twice for one', async () => {
    const c = counter();
    const issuer = new SegmentIssuer(c.incrBy, 100);
    const first = await issuer.issue(5);
    expect(first.ids).toEqual(['1', '2', '3', '4', '5']);
    expect(c.calls).toEqual([100]);
    // 10 of 100 used: the spare range is asked for in the background.
    await issuer.issue(5);
    await Promise.resolve();
    expect(c.calls).toEqual([100, 100]);
    // A call across the end of the range continues in the spare one, in order.
    const across = await issuer.issue(95);
    expect(across.ids[0]).toBe('11');
    expect(across.ids.at(-1)).toBe('105');
    expect(across.n).toBe(10);
    const all = [...first.ids, ...across.ids];
    expect(new Set(all).size).toBe(all.length);
  });

  it('segment: a failed fetch fails the call and hands out nothing twice; the next call fetches again', async () => {
    const c = counter();
    const issuer = new SegmentIssuer(c.incrBy, 100);
    await issuer.issue(5);
    c.fail = true;
    // Takes 6–100 from memory, then finds no range to go on with: the call fails, its IDs are dropped.
    await expect(issuer.issue(96)).rejects.toThrow('redis down');
    c.fail = false;
    const next = await issuer.issue(2);
    expect(next).toEqual({ ids: ['101', '102'], n: 5 });
  });

  it('segment: a counter that lost its data (a Redis restart without persistence) hands out the same ranges again', async () => {
    const c = counter();
    const issuer = new SegmentIssuer(c.incrBy, 10);
    const before = (await issuer.issue(10)).ids;
    c.value = 0n;
    // The spare range was fetched before the loss (ids 11–20); after it, 1–10 come back.
    const after = [...(await issuer.issue(10)).ids, ...(await issuer.issue(10)).ids];
    expect(after.filter((id) => before.includes(id))).toHaveLength(10);
  });
});
