import { at, Tally, type CheckerDefinition, type Count } from './checker.ts';
import type { HistoryRecord } from '../metrics/sink.ts';


/** What one producer's messages did, as the history tells it. */
interface Producer {
  /** Acknowledged sequence numbers → when (ms since the window began). */
  acked: Map<number, number>;
  /** Sequence numbers whose publish failed or was never confirmed → when that was known. */
  failed: Map<number, number>;
  /** Received sequence numbers → how many times. */
  received: Map<number, number>;
  /** The highest sequence number received so far, and nothing yet. */
  highest: number;
  /** The same, for each key of this producer. */
  highestOfKey: Map<number, number>;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/** The counts of the delivery checker. */
export type DeliveryCounts = Record<'lost' | 'lost_unconfirmed' | 'duplicated' | 'reordered' | 'reordered_in_key', Count>;

/**
 * Delivery over a messaging history, in the order things happened, of records `{ ev, p, s, k? }`
 * (producer id, its sequence number, the message's key if it has one):
 * - `ack`: the producer was told the message is safe (the broker's confirm; without confirms,
 *   the publish was written to the connection). `fail`: it was told the publish failed, or never
 *   heard back. `recv`: a consumer took the message (processing began).
 * Counts:
 * - `lost`: acknowledged, never received; per second by the ack's second.
 * - `lost_unconfirmed`: failed or never confirmed, and never received (the producer knew); by the failure's second.
 * - `duplicated`: receipts of a message already received (the extra copies); by the receipt's second.
 * - `reordered`: first receipts of a message after a later message of the same producer; by the receipt's second.
 * - `reordered_in_key`: the same within one key of one producer (what a partitioned log promises).
 * Whole-run values count everything, warm-up and drain included; `perSecond` covers the
 * measured window's seconds only. Exact: maps per producer, no sampling.
 */
export async function checkDelivery(history: AsyncIterable<HistoryRecord>, windowMs: number): Promise<DeliveryCounts> {
  const seconds = Math.ceil(windowMs / 1000);
  const producers = new Map<string, Producer>();
  const duplicated = new Tally(seconds);
  const reordered = new Tally(seconds);
  const reorderedInKey = new Tally(seconds);
  const producerOf = (p: string): Producer => {
    let x = producers.get(p);
    if (!x) producers.set(p, (x = { acked: new Map(), failed: new Map(), received: new Map(), highest: -Infinity, highestOfKey: new Map() }));
    return x;
  };
  for await (const r of history) {
    const { ev, p, s, k } = r;
    if (typeof p !== 'string' || typeof s !== 'number') continue;
    const prod = producerOf(p);
    if (ev === 'ack') {
      prod.acked.set(s, r.t);
    } else if (ev === 'fail') {
      prod.failed.set(s, r.t);
    } else if (ev === 'recv') {
      const times = (prod.received.get(s) ?? 0) + 1;
      prod.received.set(s, times);
      if (times > 1) {
        duplicated.add(r.t, () => `${p}#${s} received again at ${at(r.t)} (${ordinal(times)} receipt)`);
        continue;
      }
      if (s < prod.highest) {
        const after = prod.highest;
        reordered.add(r.t, () => `${p}#${s} received at ${at(r.t)} after ${p}#${after}`);
      }
      if (s > prod.highest) prod.highest = s;
      if (typeof k === 'number') {
        const high = prod.highestOfKey.get(k) ?? -Infinity;
        if (s < high) reorderedInKey.add(r.t, () => `${p}#${s} (key ${k}) received at ${at(r.t)} after ${p}#${high} of the same key`);
        if (s > high) prod.highestOfKey.set(k, s);
      }
    }
  }
  const lost = new Tally(seconds);
  const lostUnconfirmed = new Tally(seconds);
  const lostAt: { p: string; s: number; t: number }[] = [];
  const unconfirmedAt: { p: string; s: number; t: number }[] = [];
  for (const [p, prod] of producers) {
    for (const [s, t] of prod.acked) if (!prod.received.has(s)) lostAt.push({ p, s, t });
    // A publish that failed and was then acknowledged after all (a late confirm) counts as acknowledged.
    for (const [s, t] of prod.failed) if (!prod.received.has(s) && !prod.acked.has(s)) unconfirmedAt.push({ p, s, t });
  }
  // The earliest losses make the examples, whatever order the producers came in.
  lostAt.sort((a, b) => a.t - b.t);
  unconfirmedAt.sort((a, b) => a.t - b.t);
  for (const m of lostAt) lost.add(m.t, () => `${m.p}#${m.s} acknowledged at ${at(m.t)}, never consumed`);
  for (const m of unconfirmedAt) lostUnconfirmed.add(m.t, () => `${m.p}#${m.s} failed or unconfirmed at ${at(m.t)}, never consumed`);
  return { lost: lost.result(), lost_unconfirmed: lostUnconfirmed.result(), duplicated: duplicated.result(), reordered: reordered.result(), reordered_in_key: reorderedInKey.result() };
}

/** The `delivery` checker: lost, duplicated and reordered messages, counted exactly from the history. */
export const deliveryChecker: CheckerDefinition = {
  name: 'delivery',
  counts: {
    lost: { description: 'messages acknowledged to their producer (confirmed by the broker, or written without confirms) and never consumed, by the second of the ack', unit: 'count', better: 'lower' },
    lost_unconfirmed: { description: 'messages whose publish failed or was never confirmed, and never consumed (the producer knew), by the second of the failure', unit: 'count', better: 'lower' },
    duplicated: { description: 'extra receipts of a message already consumed, by the second of the receipt', unit: 'count', better: 'lower' },
    reordered: { description: 'messages first consumed after a later message of the same producer, by the second of the receipt', unit: 'count', better: 'lower' },
    reordered_in_key: { description: 'messages first consumed after a later message of the same producer and key (the order a partitioned log promises), by the second of the receipt', unit: 'count', better: 'lower' },
  },
  check: (input) => checkDelivery(input.history(), input.windowMs),
};
