import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/result/result.ts';
import { faultBands } from './charts/chart.ts';
import { designCharts, reportCharts, timeChartKinds } from './charts/report-charts.ts';
import { compareResults } from './compare.ts';
import { renderCompareHtml } from './compare-html.ts';
import { renderHtmlReport } from './html-report.ts';
import { writeRunIndex } from './run-index.ts';
import type { Locator } from 'playwright-core';
import { launchChromium, openReport, type Chromium, type OpenedReport } from './testing/chromium.ts';
import { faultFixture, fixture, hostile, messagingFixture, partial, withFaults, withRegression, XSS } from './testing/fixtures.ts';
import { slaMatrix } from './verdict.ts';

let dir: string;
let browser: Chromium;
beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-html-e2e-'));
  browser = await launchChromium();
});
afterAll(async () => {
  await browser?.[Symbol.asyncDispose]();
  await rm(dir, { recursive: true, force: true });
});

async function open(name: string, html: string, colorScheme: 'light' | 'dark' = 'light'): Promise<OpenedReport> {
  const file = join(dir, `${name}.html`);
  await writeFile(file, html);
  return openReport(browser, file, { colorScheme, viewport: { width: 1366, height: 900 } });
}

/** Marks each chart drew for its data (axes and legends not counted). */
async function drawnMarks(r: OpenedReport): Promise<number[]> {
  const charts = r.page.locator('figure.chart');
  const counts: number[] = [];
  for (let i = 0; i < (await charts.count()); i++) counts.push(await charts.nth(i).locator('g.role-mark > *').count());
  return counts;
}

/** Fault bands and their labels drawn in one design's time chart (of one named distribution or gauge, for kinds drawn per name). */
async function bandsIn(r: OpenedReport, design: string, kind: string, metric?: string): Promise<{ bands: number; labels: string[] }> {
  const charts = r.page.locator(`figure.chart[data-chart-kind="${kind}"]`);
  let chart: Locator | undefined;
  for (let i = 0; i < (await charts.count()); i++) {
    const c = charts.nth(i);
    if ((await c.getAttribute('data-design')) === design && (await c.getAttribute('data-metric')) === (metric ?? null)) chart = c;
  }
  if (!chart) throw new Error(`the page has no ${kind} chart${metric === undefined ? '' : ` of ${metric}`} for ${design}`);
  return {
    bands: await chart.locator('g.fault_band_marks > path').count(),
    labels: await chart.locator('g.fault_label_marks > text').allTextContents(),
  };
}

/** One band per fault record that took effect, labelled with its name, on every time chart of every design. */
async function expectOneBandPerFault(r: OpenedReport, result: RunResult): Promise<void> {
  for (const d of result.designs) {
    const applied = faultBands(d.faults, Infinity).map((b) => b.name);
    const charts = designCharts(result, d).filter((c) => (timeChartKinds as readonly string[]).includes(c.kind));
    for (const c of charts) expect(await bandsIn(r, d.name, c.kind, c.metric), `${d.name} ${c.kind} ${c.metric ?? ''}`).toEqual({ bands: applied.length, labels: applied });
  }
}

describe('report.html in headless Chromium', () => {
  let report: OpenedReport;
  const result = fixture();
  beforeAll(async () => {
    report = await open('fixture', renderHtmlReport(result));
  });

  it('opens from disk with no console error and no request off the disk, and draws every chart', async () => {
    expect(report.problems).toEqual([]);
    expect(report.network).toEqual([]);
    expect(report.charts).toBe('ready');
    const marks = await drawnMarks(report);
    expect(marks).toHaveLength(reportCharts(result).length);
    for (const n of marks) expect(n).toBeGreaterThan(0);
  });

  it("shows the fixture's SLA verdicts in the matrix", async () => {
    const rows = report.page.locator('table.matrix tbody tr');
    const matrix = slaMatrix(result);
    expect(await rows.count()).toBe(matrix.length);
    for (const [i, row] of matrix.entries()) {
      const cells = await rows.nth(i).locator('td').allTextContents();
      expect(cells[0]).toBe(row.line);
      expect(cells.slice(3)).toEqual(row.cells.map((v) => `${v!.pass ? 'PASS' : 'FAIL'}${v!.measuredText}`));
    }
    expect(await report.page.locator('.verdict').textContent()).toBe('FAIL: single missed the SLA');
  });
});

describe('fault windows of the fault fixture', () => {
  const result = faultFixture();
  let report: OpenedReport;
  beforeAll(async () => {
    report = await open('fault-fixture', renderHtmlReport(result));
  });

  it('draw one labelled band per fault record that took effect, on every time chart', async () => {
    expect(report.problems).toEqual([]);
    await expectOneBandPerFault(report, result);
  });

  // Guards the test above: a fixture without faults would pass it with nothing drawn.
  it('the fault fixture has at least one fault record that took effect', () => {
    expect(result.designs.flatMap((d) => faultBands(d.faults, Infinity)).length).toBeGreaterThan(0);
  });
});

describe('fault windows on the time charts', () => {
  it('are shaded and labelled, one band per fault that took effect', async () => {
    const result = withFaults();
    const r = await open('faults', renderHtmlReport(result));
    expect(r.problems).toEqual([]);
    await expectOneBandPerFault(r, result);
    expect(await bandsIn(r, 'single', 'latency-over-time')).toEqual({ bands: 2, labels: ['slow-link', 'crash'] });
  });
});

describe('a schema-2 result with named metrics and checker counts', () => {
  const result = messagingFixture();
  let report: OpenedReport;
  beforeAll(async () => {
    report = await open('messaging', renderHtmlReport(result));
  });

  it('draws every chart, a chart per named distribution and gauge among them, each with its fault window', async () => {
    expect(report.problems).toEqual([]);
    expect(report.charts).toBe('ready');
    const marks = await drawnMarks(report);
    expect(marks).toHaveLength(reportCharts(result).length);
    for (const n of marks) expect(n).toBeGreaterThan(0);
    await expectOneBandPerFault(report, result);
    expect(await bandsIn(report, 'queue', 'distribution-over-time', 'e2e')).toEqual({ bands: 1, labels: ['broker-pause'] });
    expect(await bandsIn(report, 'stream', 'gauge-over-time', 'lag')).toEqual({ bands: 1, labels: ['broker-pause'] });
  });

  it('shows the correctness table with every example', async () => {
    const rows = report.page.locator('#correctness tbody tr');
    expect(await rows.count()).toBe(2);
    expect(await rows.first().locator('li').allTextContents()).toEqual(result.designs[0]!.checks.lost!.examples);
  });
});

describe('hostile strings', () => {
  it(`a design named ${XSS} runs no script and shows as text`, async () => {
    const result = hostile();
    const r = await open('hostile', renderHtmlReport(result));
    expect(r.problems).toEqual([]);
    expect(r.charts).toBe('ready');
    expect(await r.page.locator('img').count()).toBe(0);
    expect(await r.page.locator('h1').textContent()).toBe(result.scenario.name);
    expect(await r.page.locator('section.design h2').first().textContent()).toContain(XSS);
    expect(await r.page.locator('.description').textContent()).toBe(result.scenario.description);
  });
});

describe('other pages', () => {
  it('render a partial result, marked incomplete', async () => {
    const r = await open('partial', renderHtmlReport(partial()));
    expect(r.problems).toEqual([]);
    expect(r.charts).toBe('ready');
    expect(await r.page.locator('.verdict').textContent()).toBe('INCOMPLETE: the run was cut short');
    expect(await r.page.locator('.banner').first().isVisible()).toBe(true);
  });

  it('render in dark mode with light text on a dark page', async () => {
    const r = await open('dark', renderHtmlReport(fixture()), 'dark');
    expect(r.problems).toEqual([]);
    expect(r.charts).toBe('ready');
    const html = await r.page.evaluate('getComputedStyle(document.documentElement).backgroundColor');
    const axis = await r.page.evaluate("getComputedStyle(document.querySelector('g.role-axis text')).fill");
    expect(html).toBe('rgb(13, 17, 23)');
    expect(axis).toBe('rgb(230, 237, 243)');
  });

  it('render a comparison and an index of runs', async () => {
    const c = await open('compare', renderCompareHtml(compareResults(hostile(), withRegression(hostile()))));
    expect(c.problems).toEqual([]);
    expect(c.charts).toBe('ready');
    expect(await c.page.locator('.verdict').textContent()).toMatch(/^REGRESSION: 4 figures/);
    const runs = join(dir, 'runs');
    await mkdir(join(runs, 'a'), { recursive: true });
    await writeFile(join(runs, 'a', 'result.json'), JSON.stringify(hostile()));
    const index = await openReport(browser, (await writeRunIndex(runs)).path);
    expect(index.problems).toEqual([]);
    expect(await index.page.locator('tbody tr').count()).toBe(1);
  });
});
