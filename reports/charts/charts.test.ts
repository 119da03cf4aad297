import { compile } from 'vega-lite';
import { describe, expect, it } from 'vitest';
import { decodeHistogram } from '../../harness/metrics/histogram.ts';
import { fixture, hostile, messagingFixture, sampleFaults, withFaults, withResources, XSS } from '../testing/fixtures.ts';
import { faultBandLayers, faultBands, type Layer } from './chart.ts';
import { chartSvg } from './chart-svg.ts';
import { MAX_NINES, nines, percentileDistribution } from './percentile-distribution.ts';
import { designCharts, reportCharts, timeChartKinds } from './report-charts.ts';

function layerValues(layer: Layer | undefined): Record<string, unknown>[] {
  return ((layer as { data?: { values?: Record<string, unknown>[] } }).data?.values) ?? [];
}

describe('charts', () => {
  it('are Vega-Lite specs that compile without a warning, one distribution and the charts of every design', () => {
    const result = fixture();
    const charts = reportCharts(result);
    expect(charts.map((c) => `${c.kind}:${c.design ?? ''}`)).toEqual([
      'percentile-distribution:',
      ...result.designs.flatMap((d) => ['latency-over-time', 'throughput-over-time', 'errors-over-time', 'served-by'].map((k) => `${k}:${d.name}`)),
    ]);
    for (const c of [...charts, ...reportCharts(messagingFixture())]) {
      const warnings: unknown[] = [];
      const logger = { level: () => logger, getLevel: () => 0, error: (...a: unknown[]) => warnings.push(a), warn: (...a: unknown[]) => warnings.push(a), info: () => logger, debug: () => logger };
      compile(c.spec, { logger: logger as never });
      expect(warnings, `${c.kind} ${c.design}`).toEqual([]);
    }
  });

  it('shade one labelled band per fault that took effect, to its removal or to the end of the window', () => {
    const bands = faultBands(sampleFaults(), 6);
    expect(bands).toEqual([
      { name: 'slow-link', kind: 'latency', target: 'client->service', from: 1.003, to: 3.004 },
      { name: 'crash', kind: 'kill', target: 'service', from: 4.01, to: 6 },
    ]);
    const [band, label] = faultBandLayers(sampleFaults(), 6);
    expect(layerValues(band)).toHaveLength(2);
    expect((label as { encoding: { text: { field: string } } }).encoding.text.field).toBe('name');
  });

  it('put the fault bands on every time chart of a design', () => {
    const result = withFaults();
    const charts = designCharts(result, result.designs[0]!).filter((c) => (timeChartKinds as string[]).includes(c.kind));
    expect(charts).toHaveLength(3);
    for (const c of charts) expect(layerValues(c.spec.layer.find((l) => (l as { name?: string }).name === 'fault_band'))).toHaveLength(2);
  });

  it('draw a chart per named distribution and per gauge of a design, with its fault windows shaded', () => {
    const result = messagingFixture();
    const d = result.designs[0]!;
    const charts = designCharts(result, d);
    expect(charts.map((c) => `${c.kind}:${c.metric ?? ''}`)).toEqual(['latency-over-time:', 'throughput-over-time:', 'errors-over-time:', 'distribution-over-time:e2e', 'gauge-over-time:lag']);
    expect(charts.map((c) => c.title)).toEqual(['Latency percentiles over time', 'Throughput over time', 'Errors over time by kind', 'e2e percentiles over time', 'lag over time']);
    for (const c of charts) expect(layerValues(c.spec.layer.find((l) => (l as { name?: string }).name === 'fault_band'))).toEqual([{ name: 'broker-pause', kind: 'pause', target: 'broker', from: 2.004, to: 3.001 }]);
    const e2e = layerValues(charts[3]!.spec.layer.find((l) => (l as { name?: string }).name === 'distribution')) as { t: number; p99: number }[];
    expect(e2e.map((v) => [v.t, v.p99])).toEqual(d.series.map((row) => [row.second + 0.5, row.distributions!.e2e!.latencyUs.p99 / 1000]));
    const lag = layerValues(charts[4]!.spec.layer.find((l) => (l as { name?: string }).name === 'gauge'));
    expect(lag).toEqual(d.series.map((row) => ({ t: row.second + 1, v: row.gauges!.lag })));
    expect(lag.map((v) => v.v)).toEqual([3, 5, 180, 40, 4, 2]);
  });

  it('draw the CPU of every service and of the load generator beside throughput, as a share of one core, when it was sampled', () => {
    const result = withFaults(withResources());
    const d = result.designs[0]!;
    const charts = designCharts(result, d);
    expect(charts.map((c) => c.kind)).toEqual(['latency-over-time', 'throughput-over-time', 'cpu-over-time', 'errors-over-time', 'served-by']);
    const cpu = charts[2]!;
    expect(cpu.title).toBe('CPU per service over time');
    const warnings: unknown[] = [];
    const logger = { level: () => logger, getLevel: () => 0, error: (...a: unknown[]) => warnings.push(a), warn: (...a: unknown[]) => warnings.push(a), info: () => logger, debug: () => logger };
    compile(cpu.spec, { logger: logger as never });
    expect(warnings).toEqual([]);
    expect(layerValues(cpu.spec.layer.find((l) => (l as { name?: string }).name === 'fault_band'))).toHaveLength(2);
    const values = layerValues(cpu.spec.layer.find((l) => (l as { name?: string }).name === 'cpu')) as { t: number; service: string; role: string; cpu: number }[];
    const row = d.series[1]!;
    expect(values.filter((v) => v.t === 1.5)).toEqual([
      { t: 1.5, service: 'service', role: 'design', cpu: Math.round(row.ops * 120 / 1e4 * 10) / 10, ms: Math.round(row.ops * 1.2) / 10 },
      { t: 1.5, service: 'load-generator', role: 'load generator', cpu: Math.round(row.ops * 60 / 1e4 * 10) / 10, ms: Math.round(row.ops * 0.6) / 10 },
    ]);
    expect(new Set(values.map((v) => v.t)).size).toBe(d.series.length);
    expect(designCharts(fixture(), fixture().designs[0]!).map((c) => c.kind)).not.toContain('cpu-over-time');
  });

  it('name the workload\'s operations in their own words', () => {
    const result = messagingFixture();
    const [, throughput, errors] = designCharts(result, result.designs[0]!);
    expect(JSON.stringify(throughput!.spec)).toContain('successful messages per second');
    expect(JSON.stringify(errors!.spec)).toContain('failed messages per second');
    const http = fixture();
    expect(designCharts(http, http.designs[1]!).find((c) => c.kind === 'served-by')?.title).toBe('Requests per backend');
  });

  it('draw the percentile distribution from the merged histogram, p0 to p99.99 on a nines axis', () => {
    const result = fixture();
    const d = result.designs[0]!;
    const values = layerValues(percentileDistribution([{ name: d.name, histogram: d.totals.histogram }]).layer[0]) as { nines: number; ms: number; p: number }[];
    expect(values[0]!.nines).toBe(0);
    expect(values.at(-1)!.nines).toBe(MAX_NINES);
    expect(values.at(-1)!.p).toBe(99.99);
    for (let i = 1; i < values.length; i++) expect(values[i]!.ms).toBeGreaterThanOrEqual(values[i - 1]!.ms);
    const p99 = values.find((v) => v.nines === 2)!;
    expect(p99.ms * 1000).toBe(decodeHistogram(d.totals.histogram).getValueAtPercentile(99));
    expect(nines(99.9)).toBeCloseTo(3, 10);
  });

  it('leave out designs that measured nothing', () => {
    const result = fixture();
    const d = result.designs[0]!;
    d.series = [];
    d.totals.histogram = '';
    expect(designCharts(result, d)).toEqual([]);
    expect(layerValues(percentileDistribution([{ name: d.name, histogram: '' }]).layer[0])).toEqual([]);
  });

  it('export as standalone SVG in Node, with user strings escaped', async () => {
    const result = hostile();
    const latency = designCharts(result, result.designs[0]!)[0]!;
    const svg = await chartSvg(latency.spec);
    expect(svg).toMatch(/^<svg xmlns="http:\/\/www.w3.org\/2000\/svg"/);
    expect(svg).toContain('<path class="background" aria-hidden="true" d="M0,0h760v220h-760Z"/>');
    expect(svg).toContain('fault_band_marks');
    expect(svg).not.toContain('<script');
    expect(svg).toContain('&lt;script&gt;alert(');
    const distribution = await chartSvg(reportCharts(result)[0]!.spec);
    expect(distribution).not.toContain(XSS);
    expect(distribution).toContain('>&lt;img src=x onerro');
  });
});
