import { MAX_EXAMPLES, type CheckerDefinition } from '../../../checkers/checker.ts';
import type { HistoryRecord } from '../../../metrics/sink.ts';
import type { CheckCount } from '../../../result/result.ts';

type Count = Omit<CheckCount, 'checker' | 'unit'>;

/** What one producer's messages did, as the history tells it. */
interface Producer {
  /** Acknowledged sequence numbers → when (ms since the window began). */
  acked: Map<number, number>;
  /** Received sequence numbers → how many times. */
  received: Map<number, number>;
  /** The highest sequence number received so far, and nothing yet. */
  highest: number;
}

/** A count being gathered: the total, per second of the window, and examples with their times. */
class Tally {
  value = 0;
  readonly perSecond: number[];
  examples: { t: number; text: string }[] = [];

  constructor(seconds: number) {
    this.perSecond = new Array<number>(seconds).fill(0);
  }

  /** One more at `t` (ms since the window began): every one counts in `value`; seconds ≥ 0 of the window per second. */
  add(t: number, example: () => string): void {
    this.value++;
    const s = Math.floor(t / 1000);
    if (s >= 0 && s < this.perSecond.length) this.perSecond[s]!++;
    if (this.examples.length < MAX_EXAMPLES) this.examples.push({ t, text: example() });
  }

  result(): Count {
    return { value: this.value, perSecond: this.perSecond, examples: this.examples.sort((a, b) => a.t - b.t).map((e) => e.text) };
  }
}

function at(t: number): string {
  return `${(t / 1000).toFixed(2)}s`;
}

function ordinal(n: number): string {
  const tens = n % 100;
  if (tens >= 11 && tens <= 13) return `${n}th`;
  return `${n}${['th', 'st', 'nd', 'rd'][n % 10] ?? 'th'}`;
}

/**
 * Delivery over a messaging history of `{ ev: 'ack' | 'recv', p, s }` records (producer id and
 * its sequence number), in the order they happened:
 * - `lost`: acknowledged to the producer, never received; per second by the ack's second.
 * - `duplicated`: receipts of a message already received (the extra copies); by the receipt's second.
 * - `reordered`: first receipts of a message after a later message of the same producer; by the receipt's second.
 * Whole-run values count everything, warm-up and drain included; `perSecond` covers the
 * measured window's seconds only. Exact: one map per producer, no sampling.
 */
export async function checkDelivery(history: AsyncIterable<HistoryRecord>, windowMs: number): Promise<{ lost: Count; duplicated: Count; reordered: Count }> {
  const seconds = Math.ceil(windowMs / 1000);
  const producers = new Map<string, Producer>();
  const duplicated = new Tally(seconds);
  const reordered = new Tally(seconds);
  const producerOf = (p: string): Producer => {
    let x = producers.get(p);
    if (!x) producers.set(p, (x = { acked: new Map(), received: new Map(), highest: -Infinity }));
    return x;
  };
  for await (const r of history) {
    const { ev, p, s } = r;
    if (typeof p !== 'string' || typeof s !== 'number') continue;
    const prod = producerOf(p);
    if (ev === 'ack') {
      prod.acked.set(s, r.t);
    } else if (ev === 'recv') {
      const times = (prod.received.get(s) ?? 0) + 1;
      prod.received.set(s, times);
      if (times > 1) {
        duplicated.add(r.t, () => `${p}#${s} received again at ${at(r.t)} (${ordinal(times)} receipt)`);
      } else {
        if (s < prod.highest) {
          const after = prod.highest;
          reordered.add(r.t, () => `${p}#${s} received at ${at(r.t)} after ${p}#${after}`);
        }
        if (s > prod.highest) prod.highest = s;
      }
    }
  }
  const lost = new Tally(seconds);
  const lostAt: { p: string; s: number; t: number }[] = [];
  for (const [p, prod] of producers) {
    for (const [s, t] of prod.acked) if (!prod.received.has(s)) lostAt.push({ p, s, t });
  }
  // The earliest losses make the examples, whatever order the producers came in.
  lostAt.sort((a, b) => a.t - b.t);
  for (const m of lostAt) lost.add(m.t, () => `${m.p}#${m.s} acknowledged at ${at(m.t)}, never consumed`);
  return { lost: lost.result(), duplicated: duplicated.result(), reordered: reordered.result() };
}

/** The `delivery` checker: lost, duplicated and reordered messages, counted exactly from the history. */
export const deliveryChecker: CheckerDefinition = {
  name: 'delivery',
  counts: {
    lost: { description: 'messages acknowledged to their producer and never consumed, by the second of the ack', unit: 'count', better: 'lower' },
    duplicated: { description: 'extra receipts of a message already consumed, by the second of the receipt', unit: 'count', better: 'lower' },
    reordered: { description: 'messages first consumed after a later message of the same producer, by the second of the receipt', unit: 'count', better: 'lower' },
  },
  check: (input) => checkDelivery(input.history(), input.windowMs),
};
