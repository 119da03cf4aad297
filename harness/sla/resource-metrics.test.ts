import { describe, expect, it } from 'vitest';
import { LOAD_GENERATOR, type FaultRecord, type ResourceSummary, type SecondStats } from '../result/result.ts';
import { judge, recoveryUs } from './judge-design.ts';
import { buildRegistry } from './metric-registry.ts';
import { figuresOf, httpWorkload, row } from './sla-fixtures.ts';
import { parseSla } from './sla-grammar.ts';

const registry = buildRegistry(httpWorkload);
const sla = (line: string) => parseSla(line, registry);
const MB = 1024 * 1024;

/**
 * Six seconds at 100 operations a second on two services: the app uses 10 ms of CPU a second
 * (100 µs an operation) and the balancer 5 ms, except in seconds 2–3, when the app burns 40 ms
 * (400 µs an operation) and grows from 100 MB to 300 MB. The load generator uses 20 ms a
 * second throughout, and is never the design's.
 */
function series(): SecondStats[] {
  return Array.from({ length: 6 }, (_, s) => {
    const hot = s === 2 || s === 3;
    const r = row(s, { ok: [[100, 2000]] });
    r.resources = {
      app: { cpuUs: hot ? 40_000 : 10_000, rssBytes: (hot ? 300 : 100) * MB },
      lb: { cpuUs: 5000, rssBytes: 20 * MB },
      [LOAD_GENERATOR]: { cpuUs: 20_000, rssBytes: 900 * MB },
    };
    return r;
  });
}

/** The summary the sampler would have written for `series()`: 600 operations. */
const summary: ResourceSummary = {
  byService: {
    app: { cpuUs: 120_000, cpuUsPerOp: 200, peakRssBytes: 300 * MB },
    lb: { cpuUs: 30_000, cpuUsPerOp: 50, peakRssBytes: 20 * MB },
    [LOAD_GENERATOR]: { cpuUs: 120_000, cpuUsPerOp: 200, peakRssBytes: 900 * MB },
  },
  cpuUsPerOp: 250,
  peakRssBytes: 320 * MB,
};

const hot: FaultRecord = { name: 'hot', kind: 'latency', link: 'client->app', settings: {}, atMs: 2000, forMs: 2000, appliedAtMs: 2000, removedAtMs: 3990 };

function figures(resources: ResourceSummary | null = summary) {
  return { ...figuresOf(series(), { faults: [hot] }), ...(resources ? { resources } : {}) };
}

describe('cpu_per_op and rss', () => {
  it('parse with a time unit and a size unit in powers of 1024', () => {
    const cpu = sla('cpu_per_op < 200us');
    expect([cpu.metric.name, cpu.unit, cpu.threshold]).toEqual(['cpu_per_op', 'latency', 200]);
    expect(sla('cpu_per_op <= 1.5ms').threshold).toBe(1500);
    const rss = sla('rss < 512MB');
    expect([rss.metric.name, rss.unit, rss.threshold]).toEqual(['rss', 'bytes', 512 * MB]);
    expect(sla('rss<=1.5GB').threshold).toBe(1.5 * 1024 * MB);
    expect(sla('rss < 64KB').threshold).toBe(65_536);
    expect(sla('rss < 1000B').threshold).toBe(1000);
    expect(() => sla('rss < 512')).toThrow("SLA line 'rss < 512': rss needs a size (B, KB, MB or GB, powers of 1024), e.g. 'rss < 512MB'");
    expect(() => sla('cpu_per_op < 200')).toThrow(/cpu_per_op needs a time unit/);
    expect(() => sla('p99 < 5MB')).toThrow(/p99 needs a time unit/);
    expect(registry.names()).toEqual(expect.arrayContaining(['cpu_per_op', 'rss']));
  });

  it('judge the whole run on the design-wide figures, never the load generator', () => {
    const d = figures();
    expect(judge({ expr: sla('cpu_per_op < 200us'), display: 'cpu_per_op < 200us' }, d)).toMatchObject({ pass: false, measured: 250, unit: 'latency', measuredText: '250µs' });
    expect(judge({ expr: sla('cpu_per_op < 300us'), display: 'cpu_per_op < 300us' }, d).pass).toBe(true);
    expect(judge({ expr: sla('rss < 512MB'), display: 'rss < 512MB' }, d)).toMatchObject({ pass: true, measured: 320 * MB, unit: 'bytes', measuredText: '320MB' });
    expect(judge({ expr: sla('rss < 300MB'), display: 'rss < 300MB' }, d).pass).toBe(false);
  });

  it('have no data, and fail, when nothing was sampled', () => {
    const d = { ...figures(null), series: series().map(({ resources: _r, ...r }) => r) };
    for (const line of ['cpu_per_op < 1s', 'rss < 1GB']) {
      expect(judge({ expr: sla(line), display: line }, d)).toMatchObject({ pass: false, measured: null, measuredText: 'no data' });
    }
    const onlyGenerator = figures({ byService: { [LOAD_GENERATOR]: summary.byService[LOAD_GENERATOR]! }, cpuUsPerOp: null, peakRssBytes: 0 });
    expect(judge({ expr: sla('rss < 1GB'), display: 'rss < 1GB' }, onlyGenerator).measured).toBeNull();
  });

  it('judge a fault-scoped line on the seconds of its scope, from their rows', () => {
    const d = figures();
    // During `hot`: the app burns 40 ms in seconds 2 and 3, the balancer 5 ms each second, over 100 operations a second.
    const cpu = judge({ expr: sla('cpu_per_op < 300us'), display: 'during hot: cpu_per_op < 300us', scope: { kind: 'during', fault: 'hot' } }, d);
    const from = cpu.window!.fromMs / 1000;
    const to = cpu.window!.toMs / 1000;
    expect(from).toBe(2);
    const seconds = Array.from({ length: to - from }, (_, i) => from + i);
    const expected = seconds.reduce((a, s) => a + (s === 2 || s === 3 ? 40_000 : 10_000) + 5000, 0) / (100 * seconds.length);
    expect(expected).toBeGreaterThan(300);
    expect(cpu).toMatchObject({ pass: false, measured: expected });
    const before = judge({ expr: sla('cpu_per_op < 200us'), display: 'before hot: cpu_per_op < 200us', scope: { kind: 'before', fault: 'hot' } }, d);
    expect(before).toMatchObject({ pass: true, measured: 150 });
    const rss = judge({ expr: sla('rss < 256MB'), display: 'before hot: rss < 256MB', scope: { kind: 'before', fault: 'hot' } }, d);
    expect(rss).toMatchObject({ pass: true, measured: 120 * MB, measuredText: '120MB' });
    expect(judge({ expr: sla('rss < 256MB'), display: 'during hot: rss < 256MB', scope: { kind: 'during', fault: 'hot' } }, d)).toMatchObject({ pass: false, measured: 320 * MB });
  });

  it('have a value per second, so a recovery may be defined by them', () => {
    // Seconds 2–3 use 450 µs an operation; from second 4 on, 150 µs: recovered at 4 s, 10 ms after the end.
    expect(recoveryUs(series(), 3990, [sla('cpu_per_op < 200us')])).toBe(10_000);
    expect(recoveryUs(series(), 3990, [sla('rss < 200MB')])).toBe(10_000);
  });
});
