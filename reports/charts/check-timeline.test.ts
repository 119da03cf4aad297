import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import type { CheckTimeline, RunResult } from '../../harness/result/result.ts';
import { fixture, sampleFaults } from '../testing/fixtures.ts';
import type { Layer } from './chart.ts';
import { chartSvg } from './chart-svg.ts';
import { designCharts } from './report-charts.ts';

const timeline: CheckTimeline = {
  title: 'Who held the lock when, around the faults',
  lane: 'client',
  lanes: ['client-1', 'client-2', 'client-3'],
  spanKinds: ['alone, in its lease', 'alone, lease expired', 'with another holder inside'],
  markKinds: ['write accepted', 'write refused (fencing)', 'stale write accepted'],
  spans: [
    { lane: 'client-2', from: 1500, to: 2000, kind: 'alone, in its lease', note: 'r1' },
    { lane: 'client-2', from: 2000, to: 2100, kind: 'alone, lease expired', note: 'r1' },
    { lane: 'client-2', from: 2100, to: 2120, kind: 'with another holder inside', note: 'r1' },
    { lane: 'client-1', from: 2100, to: 2120, kind: 'with another holder inside', note: 'r1' },
  ],
  marks: [{ lane: 'client-1', t: 2110, kind: 'write accepted', note: 'r1: 4 → 5' }, { lane: 'client-2', t: 3500, kind: 'stale write accepted', note: 'r1: 3 → 4' }],
  covers: [{ from: 0, to: 5000 }],
  omitted: 0,
};

/** The fixture with the lock timeline under `holds_begun` in its first design, and two faults. */
function withTimeline(): RunResult {
  const result = fixture();
  const d = result.designs[0]!;
  d.faults = sampleFaults();
  d.checks.holds_begun = { checker: 'lock-timeline', value: 4, unit: 'count', examples: [], timeline };
  return result;
}

const values = (layer: Layer | undefined) => ((layer as { data?: { values?: Record<string, unknown>[] } }).data?.values) ?? [];
const layerNamed = (spec: { layer: Layer[] }, name: string) => spec.layer.find((l) => (l as { name?: string }).name === name);

describe('check timeline chart', () => {
  it('is drawn for a design whose checker kept a timeline, titled by it, and compiles without a warning', () => {
    const result = withTimeline();
    const [first, second] = result.designs;
    const chart = designCharts(result, first!).find((c) => c.kind === 'check-timeline')!;
    expect([chart.title, chart.metric, chart.design]).toEqual(['Who held the lock when, around the faults', 'holds_begun', first!.name]);
    expect(designCharts(result, second!).map((c) => c.kind)).not.toContain('check-timeline');
    const warnings: unknown[] = [];
    const logger = { level: () => logger, getLevel: () => 0, error: (...a: unknown[]) => warnings.push(a), warn: (...a: unknown[]) => warnings.push(a), info: () => logger, debug: () => logger };
    compile(chart.spec, { logger: logger as never });
    expect(warnings).toEqual([]);
  });

  it('puts each span on its lane in seconds, each write as a tick, and the fault windows over the kept stretch', () => {
    const result = withTimeline();
    const spec = designCharts(result, result.designs[0]!).find((c) => c.kind === 'check-timeline')!.spec;
    expect(values(layerNamed(spec, 'timeline_span'))).toEqual(timeline.spans.map((s) => ({ ...s, from: s.from / 1000, to: s.to / 1000 })));
    expect(values(layerNamed(spec, 'timeline_mark')).map((m) => [m.lane, m.t, m.kind])).toEqual([['client-1', 2.11, 'write accepted'], ['client-2', 3.5, 'stale write accepted']]);
    // The second fault runs to the end of the window: its band stops at the kept stretch's end.
    expect(values(layerNamed(spec, 'fault_band')).map((b) => [b.name, b.from, b.to])).toEqual([['slow-link', 1.003, 3.004], ['crash', 4.01, 5]]);
    // Every lane drawn, in the timeline's order, the one without a span included.
    expect(JSON.stringify(spec)).toContain('"domain":["client-1","client-2","client-3"]');
  });

  it('exports as SVG with a bar per span and a tick per write', async () => {
    const result = withTimeline();
    const svg = await chartSvg(designCharts(result, result.designs[0]!).find((c) => c.kind === 'check-timeline')!.spec);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg.match(/<g class="mark-rect role-mark timeline_span_marks"[^>]*>(.*?)<\/g>/)?.[1]?.match(/<path/g)).toHaveLength(4);
    expect(svg.match(/<g class="mark-rect role-mark timeline_mark_marks"[^>]*>(.*?)<\/g>/)?.[1]?.match(/<path/g)).toHaveLength(2);
    expect(svg).toContain('with another holder inside');
  });
});
