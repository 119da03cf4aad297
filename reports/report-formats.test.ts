import { existsSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, relative } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { reportsSummary, writeReports } from './report-formats.ts';
import { fixture, messagingFixture } from './testing/fixtures.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-formats-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('writeReports', () => {
  it('writes every format next to the result', async () => {
    const written = await writeReports(fixture(), dir, { env: {} });
    expect(written.failures).toEqual([]);
    const files = Object.values(written.files).flat().map((p) => relative(dir, p)).sort();
    expect(files).toEqual([
      'charts/errors-over-time.cluster-2.svg',
      'charts/errors-over-time.single.svg',
      'charts/latency-over-time.cluster-2.svg',
      'charts/latency-over-time.single.svg',
      'charts/percentile-distribution.svg',
      'charts/served-by.cluster-2.svg',
      'charts/served-by.single.svg',
      'charts/throughput-over-time.cluster-2.svg',
      'charts/throughput-over-time.single.svg',
      'junit.xml',
      'report.html',
      'summary.md',
    ]);
    expect(reportsSummary(written, dir).stdout).toBe('report: report.html\nalso: junit.xml, summary.md, 9 SVG charts in charts\n');
  });

  it('writes a chart per named distribution and gauge of each design', async () => {
    const written = await writeReports(messagingFixture(), dir, { env: {} });
    expect(written.failures).toEqual([]);
    const charts = (written.files.svg ?? []).map((p) => relative(dir, p)).filter((p) => /\.(e2e|lag)\./.test(p)).sort();
    expect(charts).toEqual([
      'charts/distribution-over-time.e2e.queue.svg',
      'charts/distribution-over-time.e2e.stream.svg',
      'charts/gauge-over-time.lag.queue.svg',
      'charts/gauge-over-time.lag.stream.svg',
    ]);
  });

  it('reports a failing format and still writes the others', async () => {
    const result = fixture();
    result.designs[0]!.totals.histogram = 'not a histogram';
    const written = await writeReports(result, dir, { env: {} });
    expect(written.failures.map((f) => f.format)).toEqual(['html', 'svg']);
    expect(existsSync(join(dir, 'junit.xml'))).toBe(true);
    expect(existsSync(join(dir, 'summary.md'))).toBe(true);
    expect(reportsSummary(written, dir).stderr).toMatch(/^warning: the html report failed: .+\nwarning: the svg report failed: /);
  });
});
