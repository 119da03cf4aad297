// Benchmark (not a test): how long the reports take to render, and how big they are, for a
// result of 10 designs × 600 s. The result is built the way a run builds it: the Recorder
// records synthetic but realistic latencies (a log-normal body, a slow tail, two fault windows
// with slower responses and errors) and closes one row a second. Prints a Markdown table,
// including how long headless Chromium takes to draw the page.
//   node reports/bench/render-bench.ts [--designs 10] [--seconds 600] [--rate 500]
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { Recorder } from '../../harness/metrics/recorder.ts';
import { RESULT_SCHEMA_VERSION, type DesignResult, type FaultRecord, type RunResult } from '../../harness/result/result.ts';
import { evaluateSla } from '../../harness/sla/evaluate-sla.ts';
import { parseSla } from '../../harness/sla/sla-grammar.ts';
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

function design(index: number): DesignResult {
  const next = random(index + 1);
  const gauss = () => Math.sqrt(-2 * Math.log(next() || 1e-9)) * Math.cos(2 * Math.PI * next());
  const baseUs = 800 + index * 300;
  const faults: FaultRecord[] = [
    { name: 'slow-backend', kind: 'latency', link: 'lb->backend-1', settings: { latency: { ms: 200 } }, atMs: 120_000, forMs: 60_000, appliedAtMs: 120_004, removedAtMs: 180_003 },
    { name: 'backend-down', kind: 'kill', service: 'backend-2', settings: { kill: 'SIGKILL' }, atMs: 400_000, appliedAtMs: 400_012 },
  ];
  const recorder = new Recorder(0);
  for (let s = 0; s < seconds; s++) {
    const slow = s >= 120 && s < 180;
    const down = s >= 400 && s < 403;
    for (let i = 0; i < rate; i++) {
      const tail = next() < 0.01 ? 5 + next() * 20 : 1;
      const latency = Math.round(baseUs * Math.exp(0.35 * gauss()) * tail * (slow && next() < 0.33 ? 60 : 1));
      const backend = `backend-${1 + (i % 3)}`;
      if (down && i % 3 === 1) recorder.recordFailure('GET /work', next() < 0.5 ? 'refused' : 'reset');
      else recorder.recordResponse('GET /work', latency, next() < 0.0005 ? 'http_503' : undefined, backend);
    }
    recorder.tick((s + 1) * 1000);
  }
  recorder.closeWindow(seconds * 1000);
  const { totals, operations, servedBy } = recorder.finish();
  const load = { model: 'open' as const, targetRate: rate, connections: 256, sent: rate * seconds, dropped: 0, late: 0, lateThresholdMs: 10, maxDispatchLagMs: 2, lateResponses: 0 };
  const verdicts = sla.map((line) => ({ ...evaluateSla(parseSla(line), { stats: totals, load }), line }));
  return {
    name: `design-${String(index + 1).padStart(2, '0')}`,
    target: 'bench',
    status: 'completed',
    services: [],
    load,
    totals,
    operations,
    series: [...recorder.series],
    servedBy,
    links: [],
    faults,
    sla: verdicts,
    passed: verdicts.every((v) => v.pass),
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
  scenario: { ...base.scenario, name: 'render-bench', durationMs: seconds * 1000, sla, designs: Object.fromEntries(designs.map((d) => [d.name, { target: 'bench', options: {} }])) },
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
process.stdout.write(`result: ${designCount} designs × ${seconds} s at ${rate} req/s, result.json ${mb(resultBytes)}

| output | render time | size |
| --- | ---: | ---: |
| report.html (first render / next) | ${ms(htmlCold)} / ${ms(htmlWarm)} | ${mb(Buffer.byteLength(html))} |
| report.html drawn in Chromium (open to every chart drawn) | ${ms(drawMs)} | |
| junit.xml | ${ms(junitMs)} | ${(Buffer.byteLength(junit) / 1024).toFixed(1)} KiB |
| summary.md | ${ms(mdMs)} | ${(Buffer.byteLength(md) / 1024).toFixed(1)} KiB |
| charts/*.svg (${svgs.length} charts) | ${ms(svgMs)} | ${mb(svgBytes)} |
`);
