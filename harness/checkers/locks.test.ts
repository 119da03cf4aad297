import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../metrics/sink.ts';
import { checkLocks, locksChecker } from './locks.ts';

async function* records(list: readonly HistoryRecord[]): AsyncGenerator<HistoryRecord> {
  yield* list;
}

const hold = (t: number, c: string, r: string, h: string, extra: object = {}): HistoryRecord => ({ t, ev: 'hold', c, r, h, ttl: 100, ...extra });
const write = (t: number, c: string, r: string, h: string, v: number, prev: number, extra: object = {}): HistoryRecord => ({ t, ev: 'write', c, r, h, v, prev, ...extra });
const end = (t: number, c: string, r: string, h: string): HistoryRecord => ({ t, ev: 'end', c, r, h });
const checked: HistoryRecord = { t: 5000, ev: 'locks-checked', m: 1, resources: 3 };

describe('checkLocks', () => {
  it('counts a holder let in during a paused hold, and the paused holder\'s late write', async () => {
    const c = await checkLocks(records([
      hold(0, 'client-1', 'r1', 'a'),
      // client-1 pauses past its 100 ms lease; client-2 gets the lock and works.
      hold(150, 'client-2', 'r1', 'b'),
      write(160, 'client-2', 'r1', 'b', 1, 0),
      end(170, 'client-2', 'r1', 'b'),
      // client-1 wakes and writes what it read before the pause: stale, and it goes back.
      write(1200, 'client-1', 'r1', 'a', 1, 1),
      end(1210, 'client-1', 'r1', 'a'),
      // Begins the instant client-1 ended: touching, not overlapping.
      hold(1210, 'client-3', 'r1', 'c'),
      write(1220, 'client-3', 'r1', 'c', 2, 1),
      end(1230, 'client-3', 'r1', 'c'),
      checked,
    ]), 2000);
    expect(c.overlaps).toEqual({ value: 1, perSecond: [1, 0], examples: ['client-1 held r1 from 0.00s to 1.21s while client-2 held it from 0.15s to 0.17s'] });
    expect(c.stale_writes).toEqual({ value: 1, perSecond: [0, 1], examples: ['client-1 wrote 1 to r1 at 1.20s, 1100.0 ms after its 100 ms lease from 0.00s had run out'] });
    // Three writes accepted, the counter ends at 2.
    expect(c.lost_updates).toEqual({ value: 1, examples: ['client-1 wrote 1 over 1 on r1 at 1.20s: 1 increment(s) undone'] });
    expect(c.foreign_releases.value).toBe(0);
    expect(c.stuck_locks.value).toBe(0);
    expect(c.fenced_rejections.value).toBe(0);
  });

  it('counts every pair of holds that intersect, a hold never ended lasting to the end of the history', async () => {
    const c = await checkLocks(records([
      hold(0, 'client-1', 'r1', 'a'),
      hold(10, 'client-2', 'r1', 'b'),
      hold(20, 'client-3', 'r1', 'c'),
      end(30, 'client-2', 'r1', 'b'),
      // Another resource: never an overlap with r1's holds.
      hold(25, 'client-4', 'r2', 'd'),
      end(40, 'client-3', 'r1', 'c'),
      // client-1 never ends (its end record lost): it lasts to the last record, at 50.
      hold(45, 'client-2', 'r1', 'e'),
      end(50, 'client-2', 'r1', 'e'),
      end(50, 'client-4', 'r2', 'd'),
    ]), 1000);
    // a-b, a-c, b-c, a-e.
    expect(c.overlaps.value).toBe(4);
    expect(c.overlaps.perSecond).toEqual([4]);
    // Nobody wrote: nothing stale, nothing lost; no master checked for stuck locks.
    expect(c.stale_writes.value).toBe(0);
    expect(c.lost_updates.value).toBe(0);
    expect(c.stuck_locks.value).toBeNull();
  });

  it('moves the lease with each renewal the resource heard of before the write', async () => {
    const c = await checkLocks(records([
      hold(0, 'client-1', 'r1', 'a'),
      { t: 90, ev: 'renew', c: 'client-1', r: 'r1', h: 'a' },
      // Inside the renewed lease (90 + 100).
      write(150, 'client-1', 'r1', 'a', 1, 0),
      // Past it: no renewal since 90.
      write(250, 'client-1', 'r1', 'a', 2, 1),
      { t: 260, ev: 'renew', c: 'client-1', r: 'r1', h: 'a' },
      // A renewal after a write does not excuse it; this one is inside the new lease.
      write(300, 'client-1', 'r1', 'a', 3, 2),
      // Exactly at the lease's end is not after it.
      write(360, 'client-1', 'r1', 'a', 4, 3),
      end(370, 'client-1', 'r1', 'a'),
    ]), 1000);
    expect(c.stale_writes.value).toBe(1);
    expect(c.stale_writes.examples).toEqual(['client-1 wrote 2 to r1 at 0.25s, 60.0 ms after its 100 ms lease from 0.09s had run out']);
    expect(c.lost_updates.value).toBe(0);
  });

  it('ends a fenced-out hold where the higher token came, and counts what the resource refused', async () => {
    const c = await checkLocks(records([
      hold(0, 'client-1', 'r1', 'a', { k: 1 }),
      hold(300, 'client-2', 'r1', 'b', { k: 2 }),
      { t: 300, ev: 'fenced-out', c: 'client-1', r: 'r1', h: 'a', k: 1, by: 2 },
      write(310, 'client-2', 'r1', 'b', 1, 0, { k: 2 }),
      end(320, 'client-2', 'r1', 'b'),
      // client-1 wakes: its write and a new hold with its old token are refused.
      write(1400, 'client-1', 'r1', 'a', 1, 1, { k: 1, rej: true }),
      { t: 1405, ev: 'read', c: 'client-1', r: 'r1', h: 'a', k: 1, rej: true },
      end(1410, 'client-1', 'r1', 'a'),
      hold(1500, 'client-1', 'r1', 'c', { k: 1, rej: true }),
      checked,
    ]), 2000);
    expect(c.overlaps.value).toBe(0);
    expect(c.stale_writes.value).toBe(0);
    expect(c.lost_updates.value).toBe(0);
    expect(c.fenced_rejections).toEqual({
      value: 3,
      perSecond: [0, 3],
      examples: [
        "client-1's write of 1 to r1 refused at 1.40s: fencing token 1 was stale",
        "client-1's read of r1 refused at 1.41s: fencing token 1 was stale",
        "client-1's hold c on r1 refused at 1.50s: fencing token 1 was stale",
      ],
    });
  });

  it('counts foreign releases and stuck locks, and lost updates against the final counter', async () => {
    const c = await checkLocks(records([
      { t: 100, ev: 'release', c: 'client-1', r: 'r1', del: 'own' },
      { t: 200, ev: 'release', c: 'client-2', r: 'r1', del: 'foreign', of: 'client-3' },
      { t: 300, ev: 'release', c: 'client-3', r: 'r1', del: 'none' },
      { t: 1100, ev: 'release', c: 'client-3', r: 'r2', del: 'foreign', of: 'client-1' },
      { t: 3000, ev: 'stuck', r: 'r2', m: 1, holder: 'client-2' },
      checked,
      { t: 5000, ev: 'locks-checked', m: 2, error: 'connection refused' },
      // The resource's own figures: 10 writes accepted on r1, the counter at 7; r2 untouched.
      { t: 5001, ev: 'final', r: 'r1', v: 7, writes: 10 },
      { t: 5001, ev: 'final', r: 'r2', v: 0, writes: 0 },
    ]), 2000);
    expect(c.foreign_releases).toEqual({
      value: 2,
      perSecond: [1, 1],
      examples: ["client-2's release of r1 at 0.20s deleted client-3's lock", "client-3's release of r2 at 1.10s deleted client-1's lock"],
    });
    expect(c.stuck_locks.value).toBe(1);
    expect(c.stuck_locks.examples).toEqual(["r2's lock on master 1 has no expiry (taken by client-2)", 'master 2 could not be checked for stuck locks: connection refused']);
    expect(c.lost_updates.value).toBe(3);
  });

  it('declares every count it returns', async () => {
    const c = await locksChecker.check({ history: () => records([checked]), faults: [], windowMs: 1000 });
    expect(Object.keys(c).sort()).toEqual(Object.keys(locksChecker.counts).sort());
  });
});
