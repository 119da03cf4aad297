import { at, Tally, type CheckerDefinition, type Count } from '../../checkers/checker.ts';
import type { LockRecord } from '../../checkers/locks.ts';
import type { HistoryRecord } from '../../metrics/sink.ts';
import type { CheckTimeline, FaultRecord } from '../../result/result.ts';

/** How much of the window around each fault the timeline keeps, before its start and after its end (ms). */
export const TIMELINE_MARGIN_MS = 2_000;
/** At most this many spans, and as many marks, per timeline: the earliest are kept. */
export const MAX_TIMELINE_ITEMS = 2_000;

/** What a stretch of a hold was, from the expected to the worst. */
export const holdKinds = ['alone, in its lease', 'alone, lease expired', 'with another holder inside'] as const;
/** What a write was, from the expected to the worst. */
export const writeKinds = ['write accepted', 'write refused (fencing)', 'stale write accepted'] as const;

/** A hold as the resource saw it: its client, resource, begin, end (or fenced-out, or the last record), lease and renewals. */
interface Hold {
  c: string;
  r: string;
  start: number;
  end: number | undefined;
  ttl: number;
  renewals: number[];
}

/** The stretches of the window kept: each applied fault ± the margin, clipped to the window and merged; the whole window when no fault took effect. */
export function timelineCovers(faults: readonly FaultRecord[], windowMs: number): { from: number; to: number }[] {
  const stretches = faults
    .filter((f): f is FaultRecord & { appliedAtMs: number } => f.appliedAtMs !== undefined)
    .map((f) => ({ from: Math.max(0, f.appliedAtMs - TIMELINE_MARGIN_MS), to: Math.min(windowMs, (f.removedAtMs ?? windowMs) + TIMELINE_MARGIN_MS) }))
    .sort((a, b) => a.from - b.from);
  if (stretches.length === 0) return [{ from: 0, to: windowMs }];
  const merged = [stretches[0]!];
  for (const s of stretches.slice(1)) {
    const last = merged.at(-1)!;
    if (s.from <= last.to) last.to = Math.max(last.to, s.to);
    else merged.push(s);
  }
  return merged;
}

/** `client-2` before `client-10`. */
const byName = (a: string, b: string) => a.localeCompare(b, 'en', { numeric: true });
const round = (ms: number) => Math.round(ms * 10) / 10;

/**
 * Who held what when, from a lock workload's history: for every hold that reaches into a kept
 * stretch (see `timelineCovers`), its stretches alone in its lease, alone past it, and with
 * another holder inside (the resource's clock, as the `locks` checker reads it); and every write
 * there, accepted, refused by fencing, or accepted after its holder's lease ran out (the
 * checker's rule: a lease runs from the hold's begin, or its latest renewal the resource heard
 * of, for `ttl`). At most MAX_TIMELINE_ITEMS spans, from the earliest holds, and as many
 * marks, the earliest; the rest are counted in `omitted`.
 */
export async function lockTimeline(history: AsyncIterable<HistoryRecord>, faults: readonly FaultRecord[], windowMs: number): Promise<{ timeline: CheckTimeline; holds: Count }> {
  const covers = timelineCovers(faults, windowMs);
  const inCovers = (from: number, to: number) => covers.some((s) => from <= s.to && to >= s.from);
  const holds = new Map<string, Hold>();
  const lanes = new Set<string>();
  const leaseFrom = (x: Hold, t: number) => x.renewals.reduce((from, n) => (n <= t && n > from ? n : from), x.start);
  const marks: CheckTimeline['marks'] = [];
  let omitted = 0;
  let lastT = 0;
  for await (const rec of history as AsyncIterable<LockRecord>) {
    const { t, ev, c = '?', r = '?', h } = rec;
    if (t > lastT) lastT = t;
    if (ev === 'hold' && !rec.rej && h !== undefined) {
      holds.set(h, { c, r, start: t, end: undefined, ttl: Number(rec.ttl), renewals: [] });
      lanes.add(c);
    } else if ((ev === 'end' || ev === 'fenced-out') && h !== undefined) {
      const hold = holds.get(h);
      if (hold && hold.end === undefined) hold.end = t;
    } else if (ev === 'renew' && h !== undefined) {
      holds.get(h)?.renewals.push(t);
    } else if (ev === 'write') {
      lanes.add(c);
      if (!inCovers(t, t)) continue;
      if (marks.length >= MAX_TIMELINE_ITEMS) {
        omitted++;
        continue;
      }
      // The hold's begin and every renewal before this write are in already: the resource records in the order it applies.
      const hold = h === undefined ? undefined : holds.get(h);
      const stale = !rec.rej && hold !== undefined && t > leaseFrom(hold, t) + hold.ttl;
      marks.push({ lane: c, t: round(t), kind: rec.rej ? writeKinds[1] : stale ? writeKinds[2] : writeKinds[0], note: `${r}: ${String(rec.prev)} → ${String(rec.v)}` });
    }
  }

  const all = [...holds.values()].map((x) => ({ ...x, end: x.end ?? lastT })).sort((a, b) => a.start - b.start);
  // Each resource's holds by begin, with the latest end among each and those before it: a hold
  // shares the critical section with those that begin before its end and end after its begin,
  // and the scan back stops where nothing earlier reaches its begin.
  const byResource = new Map<string, { list: typeof all; reach: number[] }>();
  for (const x of all) {
    let g = byResource.get(x.r);
    if (!g) byResource.set(x.r, (g = { list: [], reach: [] }));
    g.reach.push(Math.max(x.end, g.reach.at(-1) ?? -Infinity));
    g.list.push(x);
  }
  const othersOf = (x: (typeof all)[number]) => {
    const { list, reach } = byResource.get(x.r)!;
    let [lo, hi] = [0, list.length];
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (list[mid]!.start < x.end) lo = mid + 1;
      else hi = mid;
    }
    const found: typeof all = [];
    for (let j = lo - 1; j >= 0 && reach[j]! > x.start; j--) if (list[j] !== x && list[j]!.end > x.start) found.push(list[j]!);
    return found;
  };

  const [first, last] = [covers[0]!.from, covers.at(-1)!.to];
  const spans: CheckTimeline['spans'] = [];
  for (const x of all) {
    if (!inCovers(x.start, x.end)) continue;
    const leaseEnd = leaseFrom(x, x.end) + x.ttl;
    const others = othersOf(x);
    const cuts = [...new Set([x.start, x.end, leaseEnd, ...others.flatMap((o) => [o.start, o.end])])].filter((t) => t >= x.start && t <= x.end).sort((a, b) => a - b);
    let open: CheckTimeline['spans'][number] | undefined;
    for (let i = 0; i + 1 < cuts.length; i++) {
      const [a, b] = [Math.max(cuts[i]!, first), Math.min(cuts[i + 1]!, last)];
      if (a >= b) continue;
      // Every other hold begins and ends on a cut: one covers the piece whole or not at all.
      const shared = others.some((o) => o.start <= a && o.end >= b);
      const kind = shared ? holdKinds[2] : a >= leaseEnd ? holdKinds[1] : holdKinds[0];
      if (open && open.kind === kind && open.to === round(a)) open.to = round(b);
      else if (spans.length < MAX_TIMELINE_ITEMS) spans.push((open = { lane: x.c, from: round(a), to: round(b), kind, note: x.r }));
      else {
        // Past the bound: counted, not kept; holds are taken by begin, so the earliest are kept.
        omitted++;
        open = undefined;
      }
    }
  }
  spans.sort((a, b) => a.from - b.from);

  const count = new Tally(Math.ceil(windowMs / 1000));
  const inWindow = all.filter((x) => x.start >= 0 && x.start < windowMs);
  for (const x of inWindow) count.add(x.start, () => '');
  const longest = [...inWindow].sort((a, b) => b.end - b.start - (a.end - a.start)).slice(0, 10);
  return {
    timeline: {
      title: 'Who held the lock when, around the faults',
      lane: 'client',
      lanes: [...lanes].sort(byName),
      spanKinds: [...holdKinds],
      markKinds: [...writeKinds],
      spans,
      marks,
      covers,
      omitted,
    },
    holds: { ...count.result(), examples: longest.map((x) => `${x.c} held ${x.r} for ${(x.end - x.start).toFixed(1)} ms from ${at(x.start)}`) },
  };
}

/**
 * The lock workload's hold timeline: one count, `holds_begun` (holds the resource let begin in
 * the window; its examples the longest), carrying as its evidence who held what when around
 * each fault, which the report draws.
 */
export const lockTimelineChecker: CheckerDefinition = {
  name: 'lock-timeline',
  counts: {
    holds_begun: { description: "holds the protected resource let begin in the window, by the second of the begin (its examples: the longest holds; the report draws who held what when around each fault)", unit: 'count', better: 'neither' },
  },
  async check(input) {
    const { timeline, holds } = await lockTimeline(input.history(), input.faults, input.windowMs);
    return { holds_begun: { ...holds, timeline } };
  },
};
