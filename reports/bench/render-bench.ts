// Benchmark (not a test): how long the reports take to render, and how big they are, for a
// result of 10 designs × 600 s. The result is built the way a run builds it: the MetricSink
// records synthetic but realistic latencies (a log-normal body, a slow tail, two fault windows
// with slower responses and errors), an `e2e` distribution and a `lag` gauge, and closes one row
// a second. Prints a Markdown table, including how long headless Chromium takes to draw the page.
//   node reports/bench/render-bench.ts [--designs 10] [--seconds 600] [--rate 500]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MetricSink } from '../../harness/metrics/sink.ts';
import { formatValue } from '../../harness/result/format.ts';
import { RESULT_SCHEMA_VERSION, type DesignResult, type FaultRecord, type RunResult, type SlaVerdict } from '../../harness/result/result.ts';
import { fixture } from '../testing/fixtures.ts';
import { renderChartSvgs } from '../chart-svgs.ts';
import { renderHtmlReport } from '../html-report.ts';
import { renderJunit } from '../junit-report.ts';
import { renderMarkdown } from '../markdown-report.ts';
import { launchChromium, openReport } from '../testing/chromium.ts';

const { values } = parseArgs({ options: { designs: { type: 'string', default: '10' }, seconds: { type: 'string', default: '600' }, rate: { type: 'string', default: '500' } } });
const designCount = Number(values.designs);
const seconds = Number(values.seconds);
const rate = Number(values.rate);
const sla = ['p99 < 50ms', 'errors < 0.5%', `throughput >= ${rate * 0.95}/s`];

/** A deterministic pseudo-random source, so every run of the benchmark builds the same result. */
function random(seed: number): () => number {
  let x = seed;
  return () => {
    x = (x * 1103515245 + 12345) % 2147483648;
    return x / 2147483648;
  };
}

/** The bench's SLA lines judged on a design's totals (the SLA engine itself is not what is measured here). */
function verdicts(totals: DesignResult['totals']): SlaVerdict[] {
  const errors = totals.ops === 0 ? null : totals.errors / totals.ops;
  const judged: [string, SlaVerdict['op'], number | null, number, SlaVerdict['unit']][] = [
    [sla[0]!, '<', totals.latencyUs.p99, 50_000, 'latency'],
    [sla[1]!, '<', errors, 0.005, 'fraction'],
    [sla[2]!, '>=', totals.throughput, rate * 0.95, 'per-second'],
  ];
  return judged.map(([line, op, measured, threshold, unit]) => ({
    line,
    pass: measured !== null && (op === '<' ? measured < threshold : measured >= threshold),
    measured,
    op,
    threshold,
    unit,
    measuredText: formatValue(measured, unit),
  }));
}

function design(index: number): DesignResult {
  const next = random(index + 1);
  const gauss = () => Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next());
  const baseUs = 800 + index * 300;
  const faults: FaultRecord[] = [
    { name: 'slow-backend', kind: 'latency', link: 'lb->backend-1', settings: { latency: { ms: 200 } }, atMs: 120_000, forMs: 60_000, appliedAtMs: 120_004, removedAtMs: 180_003 },
    { name: 'backend-down', kind: 'kill', service: 'backend-2', settings: { kill: 'SIGKILL' }, atMs: 400_000, appliedAtMs: 400_012 },
  ];
  const sink = new MetricSink({ windowStartMs: 0, lateThresholdMs: 10 });
  let lag = 0;
  sink.gauge('lag', () => lag);
  for (let s = 0; s < seconds; s++) {
    const slow = s >= 120 && s < 180;
    const down = s >= 400 && s < 403;
    lag = Math.round((slow ? 400 : 5) * (1 + next()));
    for (let i = 0; i < rate; i++) {
      const at = s * 1000 + (i * 1000) / rate;
      const tail = next() < 0.01 ? 5 + next() * 20 : 1;
      const latency = Math.round(baseUs * Math.exp(0.35 * gauss()) * tail * (slow && next() < 0.33 ? 60 : 1));
      sink.sent(at, 0);
      if (down && i % 3 === 1) {
        sink.op('GET /work', at, latency, next() < 0.5 ? 'refused' : 'reset');
        continue;
      }
      sink.op('GET /work', at, latency, next() < 0.0005 ? 'http_503' : 'ok');
      sink.value('e2e', at, latency * 2);
      sink.tally('served_by', `backend-${1 + (i % 3)}`, at);
    }
    sink.tick((s + 1) * 1000);
  }
  sink.closeWindow(seconds * 1000);
  const { totals, byOperation, distributions, counters, tallies, gauges, series } = sink.finish();
  sink.destroy();
  const load = { model: 'open' as const, targetRate: rate, connections: 256, sent: rate * seconds, dropped: 0, late: 0, lateThresholdMs: 10, maxDispatchLagMs: 2, lateResponses: 0 };
  const judged = verdicts(totals);
  return {
    name: `design-${String(index + 1).padStart(2, '0')}`,
    target: 'bench',
    status: 'completed',
    services: [],
    load,
    totals,
    byOperation,
    distributions,
    counters,
    tallies,
    gauges,
    series,
    checks: {},
    links: [],
    faults,
    sla: judged,
    passed: judged.every((v) => v.pass),
  };
}

function time<T>(fn: () => T): [T, number] {
  const t0 = performance.now();
  const out = fn();
  return [out, performance.now() - t0];
}

const base = fixture();
const designs = Array.from({ length: designCount }, (_, i) => design(i));
const result: RunResult = {
  ...base,
  schemaVersion: RESULT_SCHEMA_VERSION,
  scenario: {
    ...base.scenario,
    name: 'render-bench',
    durationMs: seconds * 1000,
    sla,
    designs: Object.fromEntries(designs.map((d) => [d.name, { target: 'bench', options: {} }])),
    metrics: {
      e2e: { kind: 'distribution', description: 'time from send to the last byte handled', unit: 'latency', better: 'lower' },
      lag: { kind: 'gauge', description: 'operations sent and not yet answered', unit: 'count', better: 'lower' },
    },
  },
  passed: designs.every((d) => d.passed),
  designs,
};
const resultBytes = JSON.stringify(result, null, 2).length;

// The first render reads the Vega builds from disk; the second shows the steady cost.
const [html, htmlCold] = time(() => renderHtmlReport(result));
const [, htmlWarm] = time(() => renderHtmlReport(result));
const [junit, junitMs] = time(() => renderJunit(result));
const [md, mdMs] = time(() => renderMarkdown(result));
const t0 = performance.now();
const svgs = await renderChartSvgs(result);
const svgMs = performance.now() - t0;
const svgBytes = svgs.reduce((n, f) => n + f.content.length, 0);

/** Time from opening report.html in headless Chromium until every chart has drawn. */
async function drawInBrowser(page: string): Promise<number> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-render-bench-'));
  const browser = await launchChromium();
  try {
    const file = join(dir, 'report.html');
    await writeFile(file, page);
    const t = performance.now();
    const opened = await openReport(browser, file, { viewport: { width: 1366, height: 900 } });
    if (opened.charts !== 'ready' || opened.problems.length > 0) throw new Error(`the report did not draw: ${opened.problems.join('; ')}`);
    return performance.now() - t;
  } finally {
    await browser[Symbol.asyncDispose]();
    await rm(dir, { recursive: true, force: true });
  }
}
const drawMs = await drawInBrowser(html);

const mb = (n: number) => `${(n / 2 ** 20).toFixed(2)} MiB`;
const ms = (n: number) => `${Math.round(n)} ms`;
process.stdout.write(`result: ${designCount} designs × ${seconds} s at ${rate} ops/s, result.json ${mb(resultBytes)}

| output | render time | size |
| --- | ---: | ---: |
| report.html (first render / next) | ${ms(htmlCold)} / ${ms(htmlWarm)} | ${mb(Buffer.byteLength(html))} |
| report.html drawn in Chromium (open to every chart drawn) | ${ms(drawMs)} | |
| junit.xml | ${ms(junitMs)} | ${(Buffer.byteLength(junit) / 1024).toFixed(1)} KiB |
| summary.md | ${ms(mdMs)} | ${(Buffer.byteLength(md) / 1024).toFixed(1)} KiB |
| charts/*.svg (${svgs.length} charts) | ${ms(svgMs)} | ${mb(svgBytes)} |
`);
