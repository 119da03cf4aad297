import type { CheckTimeline, DesignResult, RunResult } from '../../harness/result/result.ts';
import { faultBands, layered, type Layer, type LayeredSpec } from './chart.ts';

/** Span colours in a timeline's kind order, from the expected to the worst: blue, amber, red; grey beyond. */
const SPAN_COLOURS = ['#3b8ede', '#f0b400', '#e03131'];
/** Mark colours in a timeline's kind order: green, grey, purple; grey beyond. */
const MARK_COLOURS = ['#2f9e44', '#868e96', '#9c36b5'];
const colours = (kinds: readonly string[], palette: readonly string[]) => kinds.map((_, i) => palette[i] ?? '#adb5bd');
/** Both legends stacked at the right, their labels whole: two side by side under the chart would be wider than it. */
const LEGEND = { orient: 'right', direction: 'vertical', labelLimit: 0 } as const;
/** Height of one lane (px). */
const LANE_HEIGHT = 26;

/** The count names of a design whose checker kept a timeline. */
export function timelineNames(design: DesignResult): string[] {
  return Object.entries(design.checks).filter(([, c]) => c.timeline !== undefined).map(([name]) => name);
}

/** A timeline's heading: its checker's own title, from the first design that kept one under `name`. */
export function timelineTitle(result: RunResult, name: string): string {
  return result.designs.map((d) => d.checks[name]?.timeline?.title).find((t) => t !== undefined) ?? name;
}

/**
 * A checker's timeline for one design (the lock workload's: who held the lock when): a lane per
 * actor, a bar per span coloured by its kind, a tick per mark (a write), and every fault window
 * shaded and labelled, over the stretches the checker kept (x in seconds into the window).
 */
export function checkTimeline(design: DesignResult, name: string): LayeredSpec {
  const tl: CheckTimeline = design.checks[name]!.timeline!;
  const from = (tl.covers[0]?.from ?? 0) / 1000;
  const to = (tl.covers.at(-1)?.to ?? 0) / 1000;
  const x = { type: 'quantitative' as const, title: 'seconds into the measured window', scale: { domain: [from, to], nice: false } };
  const y = { field: 'lane', type: 'nominal' as const, title: tl.lane, sort: tl.lanes, scale: { domain: tl.lanes } };
  const bands = faultBands(design.faults, to).filter((b) => b.to >= from && b.from <= to).map((b) => ({ ...b, from: Math.max(b.from, from), to: Math.min(b.to, to) }));
  const s = (ms: number) => ms / 1000;
  return layered(
    [
      {
        name: 'fault_band',
        data: { values: bands },
        mark: { type: 'rect', color: '#f08c00', opacity: 0.18, tooltip: true },
        encoding: {
          x: { ...x, field: 'from' },
          x2: { field: 'to' },
          tooltip: [{ field: 'name', title: 'fault' }, { field: 'kind' }, { field: 'target', title: 'on' }, { field: 'from', title: 'from (s)', format: '.2f' }, { field: 'to', title: 'to (s)', format: '.2f' }],
        },
      },
      // Every other label a line lower: faults close together (a restart inside a pause) keep their names apart.
      ...[0, 1].map((row): Layer => ({
        name: row === 0 ? 'fault_label' : 'fault_label_lower',
        data: { values: bands.filter((_, i) => i % 2 === row) },
        mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 2 + 12 * row, fontSize: 10, color: '#c76a00', fontWeight: 'bold' },
        encoding: { x: { ...x, field: 'from' }, y: { value: 0 }, text: { field: 'name' } },
      })),
      {
        name: 'timeline_span',
        data: { values: tl.spans.map((v) => ({ ...v, from: s(v.from), to: s(v.to) })) },
        mark: { type: 'bar', tooltip: true, height: { band: 0.6 } },
        encoding: {
          x: { ...x, field: 'from' },
          x2: { field: 'to' },
          y,
          color: { field: 'kind', type: 'nominal', title: null, scale: { domain: tl.spanKinds, range: colours(tl.spanKinds, SPAN_COLOURS) }, legend: LEGEND },
          tooltip: [{ field: 'lane', title: tl.lane }, { field: 'kind' }, { field: 'note' }, { field: 'from', title: 'from (s)', format: '.3f' }, { field: 'to', title: 'to (s)', format: '.3f' }],
        },
      },
      {
        name: 'timeline_mark',
        data: { values: tl.marks.map((v) => ({ ...v, t: s(v.t) })) },
        mark: { type: 'tick', thickness: 2, tooltip: true },
        encoding: {
          x: { ...x, field: 't' },
          y,
          // The expected kind (a write accepted) short, inside its bar; the others across the whole lane.
          size: { condition: { test: `datum.kind !== ${JSON.stringify(tl.markKinds[0] ?? '')}`, value: LANE_HEIGHT - 2 }, value: 8 },
          color: { field: 'kind', type: 'nominal', title: null, scale: { domain: tl.markKinds, range: colours(tl.markKinds, MARK_COLOURS) }, legend: LEGEND },
          tooltip: [{ field: 'lane', title: tl.lane }, { field: 'kind' }, { field: 'note' }, { field: 't', title: 'at (s)', format: '.3f' }],
        },
      },
    ],
    { height: Math.max(80, LANE_HEIGHT * tl.lanes.length), resolve: { scale: { color: 'independent' } } },
  );
}
