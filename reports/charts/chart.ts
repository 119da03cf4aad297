import { faultSubject } from '../../harness/result/result.ts';
import type { TopLevelSpec } from 'vega-lite';
import type { DesignResult, FaultRecord, RunResult } from '../../harness/result/result.ts';

/** A layered Vega-Lite spec, the shape every faultline chart has. */
export type LayeredSpec = Extract<TopLevelSpec, { layer: unknown }>;
/** One layer of a layered spec. */
export type Layer = LayeredSpec['layer'][number];

/** One chart of a report: a Vega-Lite spec and where it belongs. */
export interface Chart {
  /** Which kind of chart (a key of the chart registry), e.g. `latency-over-time`. */
  kind: string;
  /** Heading for people. */
  title: string;
  /** The design it shows; absent for charts of the whole run. */
  design?: string;
  /** The named distribution or gauge it shows, for kinds drawn once per name. */
  metric?: string;
  spec: LayeredSpec;
}

/** Height of every chart (px); the width follows its container in HTML and is fixed in SVG. */
export const CHART_HEIGHT = 220;

/**
 * Settings shared by all charts. The background is transparent so a chart sits on the page's
 * own colour in light and dark mode; the HTML report picks Vega's dark theme for text and grid.
 */
export const chartConfig = {
  background: 'transparent',
  view: { stroke: null },
  font: 'system-ui, -apple-system, "Segoe UI", Roboto, sans-serif',
  axis: { labelFontSize: 11, titleFontSize: 11, titleFontWeight: 'normal', grid: true, gridOpacity: 0.5 },
  legend: { labelFontSize: 11, titleFontSize: 11, orient: 'bottom', direction: 'horizontal' },
} as const satisfies LayeredSpec['config'];

/** Builds a layered chart spec with the shared size and settings. */
export function layered(layer: Layer[], extra: Partial<LayeredSpec> = {}): LayeredSpec {
  return {
    width: 'container',
    height: CHART_HEIGHT,
    config: chartConfig,
    ...extra,
    layer,
  } as LayeredSpec;
}

/** Seconds of the measured window: the scenario's, or more when a design recorded more rows. */
export function windowSeconds(result: RunResult, design: DesignResult): number {
  return Math.max(result.scenario.durationMs / 1000, design.series.length);
}

/** The x encoding of every time chart: seconds into the measured window, over the whole window. */
export function timeAxis(seconds: number, field = 't') {
  return {
    field,
    type: 'quantitative' as const,
    title: 'seconds into the measured window',
    scale: { domain: [0, seconds], nice: false },
    axis: { tickMinStep: 1, format: ',d' },
  };
}

/** Longest window (s) whose time charts mark each second with a point; beyond it points only clutter the line and weigh down the page. */
export const POINTS_UP_TO_SECONDS = 120;

/** The line mark of a time chart: points on each second for short windows, a plain line for long ones. */
export function timeLine(seconds: number, extra: { color?: string } = {}) {
  return { type: 'line' as const, point: seconds <= POINTS_UP_TO_SECONDS ? { size: 14 } : false, strokeWidth: 1.5, tooltip: true, ...extra };
}

/** A fault's shaded window in seconds: from when it took effect to its removal, or to the end. */
export interface FaultBand {
  name: string;
  kind: string;
  target: string;
  from: number;
  to: number;
}

/** One band per fault that took effect (has `appliedAtMs`); faults never applied have no window to shade. */
export function faultBands(faults: readonly FaultRecord[], seconds: number): FaultBand[] {
  return faults
    .filter((f): f is FaultRecord & { appliedAtMs: number } => f.appliedAtMs !== undefined)
    .map((f) => ({
      name: f.name,
      kind: f.kind,
      target: faultSubject(f),
      from: f.appliedAtMs / 1000,
      to: Math.min(seconds, Math.max(f.appliedAtMs / 1000, (f.removedAtMs ?? seconds * 1000) / 1000)),
    }));
}

/**
 * The layers that shade and label every fault window on a time chart: a translucent band per
 * fault and its name at the top-left of the band. Always present (possibly with no rows) so
 * every time chart has the same layers and the report can find the bands by name.
 */
export function faultBandLayers(faults: readonly FaultRecord[], seconds: number): Layer[] {
  const values = faultBands(faults, seconds);
  const x = timeAxis(seconds, 'from');
  return [
    {
      name: 'fault_band',
      data: { values },
      mark: { type: 'rect', color: '#f08c00', opacity: 0.18, tooltip: true },
      encoding: {
        x,
        x2: { field: 'to' },
        tooltip: [
          { field: 'name', title: 'fault' },
          { field: 'kind' },
          { field: 'target', title: 'on' },
          { field: 'from', title: 'from (s)', format: '.1f' },
          { field: 'to', title: 'to (s)', format: '.1f' },
        ],
      },
    },
    {
      name: 'fault_label',
      data: { values },
      mark: { type: 'text', align: 'left', baseline: 'top', dx: 3, dy: 2, fontSize: 10, color: '#c76a00', fontWeight: 'bold' },
      encoding: { x, y: { value: 0 }, text: { field: 'name' } },
    },
  ];
}
