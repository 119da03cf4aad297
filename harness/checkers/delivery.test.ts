import { describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../metrics/sink.ts';
import { checkDelivery, deliveryChecker } from './delivery.ts';

async function* records(list: HistoryRecord[]): AsyncGenerator<HistoryRecord> {
  yield* list;
}

const ack = (t: number, p: string, s: number): HistoryRecord => ({ t, ev: 'ack', p, s });
const recv = (t: number, p: string, s: number): HistoryRecord => ({ t, ev: 'recv', p, s });

describe('checkDelivery', () => {
  it('counts lost, duplicated and reordered messages exactly, per second of the window, warm-up and drain in the total', async () => {
    const history = [
      // Warm-up: p1#1 acked and lost.
      ack(-500, 'p1', 1),
      ack(-400, 'p1', 2),
      recv(-390, 'p1', 2),
      // Second 0: p1#3 received twice (one duplicate), p2#1..3 arrive 1, 3, 2 (p2#2 reordered).
      ack(100, 'p1', 3),
      recv(110, 'p1', 3),
      recv(120, 'p1', 3),
      ack(200, 'p2', 1),
      ack(210, 'p2', 2),
      ack(220, 'p2', 3),
      recv(230, 'p2', 1),
      recv(240, 'p2', 3),
      recv(250, 'p2', 2),
      // Second 1: p1#4 lost; p2#4 received before its ack was read, then a third copy of p1#3.
      recv(1100, 'p2', 4),
      ack(1101, 'p2', 4),
      ack(1500, 'p1', 4),
      recv(1600, 'p1', 3),
      // In the drain, after the 2 s window: p2#3 again, and p2#5 lost.
      ack(1900, 'p2', 5),
      recv(2300, 'p2', 3),
      // Records a delivery checker does not read.
      { t: 50, key: 'k', by: 'b' },
    ];
    const { lost, duplicated, reordered } = await checkDelivery(records(history), 2000);
    expect(lost).toEqual({
      value: 3,
      perSecond: [0, 2],
      examples: ['p1#1 acknowledged at -0.50s, never consumed', 'p1#4 acknowledged at 1.50s, never consumed', 'p2#5 acknowledged at 1.90s, never consumed'],
    });
    expect(duplicated).toEqual({
      value: 3,
      perSecond: [1, 1],
      examples: ['p1#3 received again at 0.12s (2nd receipt)', 'p1#3 received again at 1.60s (3rd receipt)', 'p2#3 received again at 2.30s (2nd receipt)'],
    });
    expect(reordered).toEqual({ value: 1, perSecond: [1, 0], examples: ['p2#2 received at 0.25s after p2#3'] });
  });

  it('keeps at most 10 examples, the earliest, while counting every one', async () => {
    const history = Array.from({ length: 25 }, (_, i) => ack(i * 100, 'p1', i + 1));
    const { lost } = await checkDelivery(records(history), 3000);
    expect(lost.value).toBe(25);
    expect(lost.perSecond).toEqual([10, 10, 5]);
    expect(lost.examples).toHaveLength(10);
    expect(lost.examples[0]).toBe('p1#1 acknowledged at 0.00s, never consumed');
    expect(lost.examples[9]).toBe('p1#10 acknowledged at 0.90s, never consumed');
  });

  it('counts failed or unconfirmed publishes never consumed apart from acknowledged ones, and order within a key', async () => {
    const fail = (t: number, p: string, s: number): HistoryRecord => ({ t, ev: 'fail', p, s });
    const recvKey = (t: number, p: string, s: number, k: number): HistoryRecord => ({ t, ev: 'recv', p, s, k });
    const history = [
      // p1#1 failed and never arrived; p1#2 failed but arrived (the broker had it); p1#3 failed, then a late confirm.
      fail(100, 'p1', 1),
      fail(200, 'p1', 2),
      recvKey(250, 'p1', 2, 0),
      fail(300, 'p1', 3),
      ack(350, 'p1', 3),
      // Keys: p2#1 (key 0), p2#2 (key 1), p2#3 (key 0) arrive 2, 3, 1: p2#1 is late within key 0; p2#2 is not late within key 1.
      ack(400, 'p2', 1),
      ack(410, 'p2', 2),
      ack(420, 'p2', 3),
      recvKey(1200, 'p2', 2, 1),
      recvKey(1210, 'p2', 3, 0),
      recvKey(1220, 'p2', 1, 0),
    ];
    const found = await checkDelivery(records(history), 2000);
    expect(found.lost_unconfirmed).toEqual({ value: 1, perSecond: [1, 0], examples: ['p1#1 failed or unconfirmed at 0.10s, never consumed'] });
    expect(found.lost).toEqual({ value: 1, perSecond: [1, 0], examples: ['p1#3 acknowledged at 0.35s, never consumed'] });
    expect(found.reordered.value).toBe(1);
    expect(found.reordered_in_key).toEqual({ value: 1, perSecond: [0, 1], examples: ['p2#1 (key 0) received at 1.22s after p2#3 of the same key'] });
  });

  it('finds nothing wrong in an orderly history, and declares every count it returns', async () => {
    const history = [ack(0, 'p1', 1), recv(5, 'p1', 1), ack(10, 'p1', 2), recv(15, 'p1', 2)];
    const found = await deliveryChecker.check({ history: () => records(history), faults: [], windowMs: 1500 });
    expect(Object.keys(found).sort()).toEqual(Object.keys(deliveryChecker.counts).sort());
    for (const c of Object.values(found)) expect(c).toEqual({ value: 0, perSecond: [0, 0], examples: [] });
  });
});
