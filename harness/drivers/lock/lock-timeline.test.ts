import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCheckers } from '../../checkers/run-checkers.ts';
import type { HistoryRecord } from '../../metrics/sink.ts';
import type { FaultRecord } from '../../result/result.ts';
import { lockTimeline, lockTimelineChecker, MAX_TIMELINE_ITEMS, timelineCovers, TIMELINE_MARGIN_MS } from './lock-timeline.ts';

async function* records(list: readonly HistoryRecord[]): AsyncGenerator<HistoryRecord> {
  yield* list;
}

const hold = (t: number, c: string, h: string, extra: object = {}): HistoryRecord => ({ t, ev: 'hold', c, r: 'r1', h, ttl: 100, ...extra });
const write = (t: number, c: string, h: string, v: number, prev: number, extra: object = {}): HistoryRecord => ({ t, ev: 'write', c, r: 'r1', h, v, prev, ...extra });
const end = (t: number, c: string, h: string): HistoryRecord => ({ t, ev: 'end', c, r: 'r1', h });
const freeze = (at: number, removed: number): FaultRecord => ({ name: 'gc-pause', kind: 'freeze', client: 'client-1', settings: { freeze: true }, atMs: at, forMs: removed - at, appliedAtMs: at, removedAtMs: removed });

/** client-1 paused past its 100 ms lease; client-2 gets in and works; client-1 wakes up and writes late; client-3 after it. */
const paused = [
  hold(0, 'client-1', 'a'),
  hold(150, 'client-2', 'b'),
  write(160, 'client-2', 'b', 1, 0),
  end(170, 'client-2', 'b'),
  write(1200, 'client-1', 'a', 1, 1),
  end(1210, 'client-1', 'a'),
  hold(1210, 'client-10', 'c'),
  write(1220, 'client-10', 'c', 2, 1),
  end(1230, 'client-10', 'c'),
];

describe('lock timeline', () => {
  it('splits each hold into its stretches alone in its lease, alone past it, and with another holder inside; marks each write', async () => {
    const { timeline, holds } = await lockTimeline(records(paused), [], 2000);
    expect(timeline.lanes).toEqual(['client-1', 'client-2', 'client-10']);
    expect(timeline.covers).toEqual([{ from: 0, to: 2000 }]);
    expect(timeline.spans).toEqual([
      { lane: 'client-1', from: 0, to: 100, kind: 'alone, in its lease', note: 'r1' },
      // client-1's lease ran out at 100; client-2 was inside from 150 to 170.
      { lane: 'client-1', from: 100, to: 150, kind: 'alone, lease expired', note: 'r1' },
      { lane: 'client-1', from: 150, to: 170, kind: 'with another holder inside', note: 'r1' },
      { lane: 'client-2', from: 150, to: 170, kind: 'with another holder inside', note: 'r1' },
      { lane: 'client-1', from: 170, to: 1210, kind: 'alone, lease expired', note: 'r1' },
      // Begins the instant client-1 ended: touching, not shared.
      { lane: 'client-10', from: 1210, to: 1230, kind: 'alone, in its lease', note: 'r1' },
    ]);
    expect(timeline.marks).toEqual([
      { lane: 'client-2', t: 160, kind: 'write accepted', note: 'r1: 0 → 1' },
      { lane: 'client-1', t: 1200, kind: 'stale write accepted', note: 'r1: 1 → 1' },
      { lane: 'client-10', t: 1220, kind: 'write accepted', note: 'r1: 1 → 2' },
    ]);
    expect(timeline.omitted).toBe(0);
    expect(holds).toEqual({ value: 3, perSecond: [2, 1], examples: ['client-1 held r1 for 1210.0 ms from 0.00s', 'client-2 held r1 for 20.0 ms from 0.15s', 'client-10 held r1 for 20.0 ms from 1.21s'] });
  });

  it('extends a lease by each renewal heard of, shows a fenced-out hold ending there and a refused write as refused', async () => {
    const { timeline } = await lockTimeline(records([
      hold(0, 'client-1', 'a', { k: 1 }),
      { t: 80, ev: 'renew', c: 'client-1', r: 'r1', h: 'a' },
      hold(250, 'client-2', 'b', { k: 2 }),
      { t: 250, ev: 'fenced-out', c: 'client-1', r: 'r1', h: 'a', k: 1, by: 2 },
      write(260, 'client-2', 'b', 1, 0, { k: 2 }),
      end(270, 'client-2', 'b'),
      write(400, 'client-1', 'a', 1, 1, { k: 1, rej: true }),
      end(410, 'client-1', 'a'),
    ]), [], 1000);
    expect(timeline.spans).toEqual([
      { lane: 'client-1', from: 0, to: 180, kind: 'alone, in its lease', note: 'r1' },
      { lane: 'client-1', from: 180, to: 250, kind: 'alone, lease expired', note: 'r1' },
      { lane: 'client-2', from: 250, to: 270, kind: 'alone, in its lease', note: 'r1' },
    ]);
    expect(timeline.marks.map((m) => [m.lane, m.kind])).toEqual([['client-2', 'write accepted'], ['client-1', 'write refused (fencing)']]);
  });

  it(`keeps the stretches ${TIMELINE_MARGIN_MS} ms around each fault, merged, and clips holds to them`, async () => {
    expect(timelineCovers([freeze(3000, 5000), { ...freeze(6000, 0), removedAtMs: undefined }, { ...freeze(9500, 9600), appliedAtMs: undefined }], 10_000)).toEqual([{ from: 1000, to: 10_000 }]);
    expect(timelineCovers([freeze(1000, 1500), freeze(7000, 7200)], 20_000)).toEqual([{ from: 0, to: 3500 }, { from: 5000, to: 9200 }]);
    const many: HistoryRecord[] = [];
    for (let i = 0; i < 100; i++) many.push(hold(i * 100, 'client-1', `h${i}`), write(i * 100 + 5, 'client-1', `h${i}`, i + 1, i), end(i * 100 + 10, 'client-1', `h${i}`));
    // A hold from 2.95 s to 6.2 s reaches into the kept stretch from both sides' holds.
    many.push(hold(2950, 'client-2', 'long', { ttl: 10_000 }), end(6200, 'client-2', 'long'));
    const { timeline } = await lockTimeline(records(many), [freeze(4500, 5000)], 10_000);
    expect(timeline.covers).toEqual([{ from: 2500, to: 7000 }]);
    // client-1's holds from 2.5 s; the one that begins at 7 s, the stretch's end, has nothing left inside it.
    expect(timeline.spans.filter((s) => s.lane === 'client-1').map((s) => s.from)).toEqual(Array.from({ length: 45 }, (_, i) => 2500 + 100 * i));
    expect(timeline.marks.map((m) => m.t)).toEqual(Array.from({ length: 45 }, (_, i) => 2505 + 100 * i));
    const long = timeline.spans.filter((s) => s.lane === 'client-2');
    expect(long.slice(0, 3).map((s) => [s.from, s.to, s.kind])).toEqual([[2950, 3000, 'alone, in its lease'], [3000, 3010, 'with another holder inside'], [3010, 3100, 'alone, in its lease']]);
    expect(long.at(-1)).toMatchObject({ from: 6110, to: 6200, kind: 'alone, in its lease' });
  });

  it(`keeps at most ${MAX_TIMELINE_ITEMS} spans and as many marks, the earliest, and says how many more there were`, async () => {
    const many: HistoryRecord[] = [];
    for (let i = 0; i < MAX_TIMELINE_ITEMS + 30; i++) many.push(hold(i, 'client-1', `h${i}`), write(i + 0.25, 'client-1', `h${i}`, i + 1, i), end(i + 0.5, 'client-1', `h${i}`));
    const { timeline } = await lockTimeline(records(many), [], 10_000);
    expect([timeline.spans.length, timeline.marks.length, timeline.omitted]).toEqual([MAX_TIMELINE_ITEMS, MAX_TIMELINE_ITEMS, 60]);
    expect(timeline.spans.at(-1)!.from).toBe(MAX_TIMELINE_ITEMS - 1);
  });

  it("reaches result.json's checks through the checkers, the timeline beside the count", async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-lock-timeline-'));
    try {
      const file = join(dir, 'history.jsonl');
      await writeFile(file, paused.map((r) => JSON.stringify(r)).join('\n'));
      const checks = await runCheckers([lockTimelineChecker], file, [freeze(100, 1200)], 2000);
      expect(checks.holds_begun).toMatchObject({ checker: 'lock-timeline', unit: 'count', value: 3 });
      expect(checks.holds_begun!.timeline?.spans).toHaveLength(6);
      expect(checks.holds_begun!.timeline?.covers).toEqual([{ from: 0, to: 2000 }]);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
