import type { HistoryRecord } from '../metrics/sink.ts';
import { at, MAX_EXAMPLES, Tally, type CheckerDefinition, type Count } from './checker.ts';

/**
 * The history records the `locks` checker reads (`t`: ms since the window began, every one on
 * the protected resource's clock — the load generator's performance.now(), stamped as the
 * resource handled each request, so their order is the order it applied them):
 * - `{ ev: 'hold', c, r, h, ttl, k?, rej? }`: hold `h` of client `c` began on resource `r`
 *   (its lease `ttl` ms, its fencing token `k`); `rej`: the resource refused it (stale token).
 * - `{ ev: 'write', c, r, h, v, prev, k?, rej? }`: the holder wrote `v` over `prev`.
 * - `{ ev: 'read', c, r, h, k?, rej: true }`: a read the resource refused (stale token).
 * - `{ ev: 'renew', c, r, h }`: the holder's lease was renewed (told after Redis answered).
 * - `{ ev: 'end', c, r, h, crashed? }`: the hold ended (`crashed`: its connection went).
 * - `{ ev: 'fenced-out', c, r, h, k, by }`: a higher token reached the resource; it accepts
 *   nothing more from hold `h`.
 * - `{ ev: 'release', c, r, del, of? }`: a release deleted the client's own lock (`own`),
 *   another client's (`foreign`, `of` names it), or nothing of its own (`none`).
 * - `{ ev: 'stuck', r, m, holder? }`: after the run, master `m` holds `r`'s lock with no expiry.
 * - `{ ev: 'locks-checked', m, error? }`: master `m` was asked for stuck locks (or could not be).
 * - `{ ev: 'final', r, v, writes }`: the resource's counter and the writes it accepted, at the end.
 */
export type LockRecord = HistoryRecord & { ev: string; c?: string; r?: string; h?: string };

/** The counts of the `locks` checker. */
export type LocksCounts = Record<'overlaps' | 'stale_writes' | 'lost_updates' | 'foreign_releases' | 'stuck_locks' | 'fenced_rejections', Count>;

interface Hold {
  c: string;
  r: string;
  h: string;
  start: number;
  /** When it stopped being able to act on the resource: its end, or being fenced out. */
  end: number | undefined;
  ttl: number;
  /** The latest moment its lease is known to have (re)started: its begin, or a renewal heard of. */
  leaseFrom: number;
}

/**
 * Lock safety over a lock workload's history, every count exact:
 * - `overlaps`: pairs of holds on one resource whose intervals intersect on the resource's
 *   clock: the resource let a second holder in before the first one's end. A hold's interval
 *   runs from its begin to its end, or to being fenced out (after which the resource accepts
 *   nothing of it), or to the end of the history if neither came. Holds that merely touch
 *   (one ends at the instant the other begins) do not overlap. Per second of the later begin.
 * - `stale_writes`: writes the resource ACCEPTED from a holder whose lease had certainly
 *   expired: write time > lease start + ttl, where the lease start is the resource's time of
 *   the hold's begin, or of the latest renewal it heard of before the write. Why that is sound
 *   (no false positives): the client sends its begin only after Redis granted the lock, and a
 *   renewal notice only after Redis renewed it, so the resource's times are upper bounds on
 *   the grant or renewal, and begin (or notice) + ttl an upper bound on the lease's expiry in
 *   Redis (Redis expires keys on its own clock; on one machine its rate and this clock's
 *   agree). A renewal sent before a write is always heard of before it: the client queues
 *   renewal, notice and its hold's requests one at a time. A write later than that bound came
 *   after the lease ended. Writes in a lease that Redis ran out early for another reason
 *   (a restarted master) are not flagged by this rule. Per second of the write.
 * - `lost_updates`: for each resource, writes accepted minus its final counter (every holder
 *   writes read + 1, so with one holder at a time they are equal); summed. No per-second
 *   figure: a later write can put back what an earlier one overwrote, so only the final value
 *   says what was lost. Examples: the writes that went back (v ≤ prev).
 * - `foreign_releases`: releases that deleted another client's lock. Per second of the release.
 * - `stuck_locks`: lock keys with no expiry after the run, on any master checked; null when
 *   no master was checked.
 * - `fenced_rejections`: requests (hold begins, reads, writes) the resource refused for a
 *   fencing token lower than the highest it had seen: stale writes fencing stopped.
 */
export async function checkLocks(history: AsyncIterable<HistoryRecord>, windowMs: number): Promise<LocksCounts> {
  const seconds = Math.ceil(windowMs / 1000);
  const holds = new Map<string, Hold>();
  const stale = new Tally(seconds);
  const foreign = new Tally(seconds);
  const stuck = new Tally(seconds);
  const rejected = new Tally(seconds);
  const writes = new Map<string, { n: number; last: number }>();
  const finals = new Map<string, { v: number; writes: number }>();
  const wentBack: { t: number; text: string }[] = [];
  let checked = 0;
  const checkProblems: string[] = [];
  let lastT = -Infinity;

  for await (const rec of history as AsyncIterable<LockRecord>) {
    const { t, ev, c = '?', r = '?', h } = rec;
    if (t > lastT) lastT = t;
    switch (ev) {
      case 'hold':
        if (rec.rej) rejected.add(t, () => `${c}'s hold ${h ?? ''} on ${r} refused at ${at(t)}: fencing token ${String(rec.k)} was stale`);
        else if (h !== undefined) holds.set(h, { c, r, h, start: t, end: undefined, ttl: Number(rec.ttl), leaseFrom: t });
        break;
      case 'renew': {
        const hold = h === undefined ? undefined : holds.get(h);
        if (hold) hold.leaseFrom = t;
        break;
      }
      case 'end':
      case 'fenced-out': {
        const hold = h === undefined ? undefined : holds.get(h);
        if (hold && hold.end === undefined) hold.end = t;
        break;
      }
      case 'read':
        if (rec.rej) rejected.add(t, () => `${c}'s read of ${r} refused at ${at(t)}: fencing token ${String(rec.k)} was stale`);
        break;
      case 'write': {
        const v = Number(rec.v);
        const prev = Number(rec.prev);
        if (rec.rej) {
          rejected.add(t, () => `${c}'s write of ${v} to ${r} refused at ${at(t)}: fencing token ${String(rec.k)} was stale`);
          break;
        }
        const w = writes.get(r) ?? { n: 0, last: 0 };
        w.n++;
        w.last = v;
        writes.set(r, w);
        if (v <= prev) wentBack.push({ t, text: `${c} wrote ${v} over ${prev} on ${r} at ${at(t)}: ${prev + 1 - v} increment(s) undone` });
        const hold = h === undefined ? undefined : holds.get(h);
        if (hold && t > hold.leaseFrom + hold.ttl) {
          const late = t - hold.leaseFrom - hold.ttl;
          stale.add(t, () => `${c} wrote ${v} to ${r} at ${at(t)}, ${late.toFixed(1)} ms after its ${hold.ttl} ms lease from ${at(hold.leaseFrom)} had run out`);
        }
        break;
      }
      case 'release':
        if (rec.del === 'foreign') foreign.add(t, () => `${c}'s release of ${r} at ${at(t)} deleted ${String(rec.of ?? 'another client')}'s lock`);
        break;
      case 'stuck':
        stuck.add(t, () => `${r}'s lock on master ${String(rec.m)} has no expiry${rec.holder === undefined ? '' : ` (taken by ${String(rec.holder)})`}`);
        break;
      case 'locks-checked':
        if (rec.error === undefined) checked++;
        else checkProblems.push(`master ${String(rec.m)} could not be checked for stuck locks: ${String(rec.error)}`);
        break;
      case 'final':
        finals.set(r, { v: Number(rec.v), writes: Number(rec.writes) });
        break;
    }
  }

  const overlaps = new Tally(seconds);
  const byResource = new Map<string, Hold[]>();
  for (const hold of holds.values()) byResource.set(hold.r, [...(byResource.get(hold.r) ?? []), hold]);
  const pairs: { t: number; text: () => string }[] = [];
  for (const list of byResource.values()) {
    list.sort((a, b) => a.start - b.start);
    let active: Hold[] = [];
    for (const hold of list) {
      active = active.filter((a) => (a.end ?? lastT) > hold.start);
      for (const a of active) {
        const end = a.end ?? lastT;
        pairs.push({ t: hold.start, text: () => `${a.c} held ${a.r} from ${at(a.start)} to ${at(end)} while ${hold.c} held it from ${at(hold.start)} to ${at(hold.end ?? lastT)}` });
      }
      active.push(hold);
    }
  }
  pairs.sort((a, b) => a.t - b.t);
  for (const p of pairs) overlaps.add(p.t, p.text);

  let lost = 0;
  for (const r of new Set([...writes.keys(), ...finals.keys()])) {
    const f = finals.get(r);
    const w = writes.get(r) ?? { n: 0, last: 0 };
    lost += f ? f.writes - f.v : w.n - w.last;
  }
  wentBack.sort((a, b) => a.t - b.t);

  const stuckCount = stuck.result();
  if (checkProblems.length > 0) stuckCount.examples = [...stuckCount.examples, ...checkProblems].slice(0, MAX_EXAMPLES);
  return {
    overlaps: overlaps.result(),
    stale_writes: stale.result(),
    lost_updates: { value: lost, examples: wentBack.slice(0, MAX_EXAMPLES).map((e) => e.text) },
    foreign_releases: foreign.result(),
    stuck_locks: checked === 0 ? { ...stuckCount, value: null } : stuckCount,
    fenced_rejections: rejected.result(),
  };
}

/** The `locks` checker: overlaps, stale writes, lost updates, foreign releases, stuck locks and fencing refusals, from the protected resource's records. */
export const locksChecker: CheckerDefinition = {
  name: 'locks',
  counts: {
    overlaps: { description: "pairs of holds on one resource that intersected on the resource's clock (a second holder let in before the first one's end), by the second of the later begin", unit: 'count', better: 'lower' },
    stale_writes: { description: 'writes the resource accepted from a holder whose lease had certainly expired (after its begin or last renewal + ttl), by the second of the write', unit: 'count', better: 'lower' },
    lost_updates: { description: "increments lost: writes the resource accepted minus its final counter (each holder writes read + 1), whole run only", unit: 'count', better: 'lower' },
    foreign_releases: { description: "releases that deleted another client's lock, by the second of the release", unit: 'count', better: 'lower' },
    stuck_locks: { description: 'lock keys left with no expiry after the run (PTTL -1): no client will ever get them again', unit: 'count', better: 'lower' },
    fenced_rejections: { description: 'requests the resource refused for a fencing token lower than the highest it had seen (stale writes that fencing stopped), by the second of the refusal', unit: 'count', better: 'neither' },
  },
  check: (input) => checkLocks(input.history(), input.windowMs),
};
