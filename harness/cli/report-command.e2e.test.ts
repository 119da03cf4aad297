import { existsSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FIXTURE_FILE, fixture, withRegression } from '../../reports/testing/fixtures.ts';
import { formatLatency } from '../result/format.ts';
import { runCli } from '../testing/cli.ts';

// Keeps these runs out of a real CI step summary; the one test that checks appending sets its own.
const env = { GITHUB_STEP_SUMMARY: '' };
let work: string;
let baseline: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-report-cli-test-'));
  await mkdir(join(work, 'runs', 'baseline'), { recursive: true });
  baseline = join(work, 'runs', 'baseline', 'result.json');
  await copyFile(FIXTURE_FILE, baseline);
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('faultline report', () => {
  it('re-renders every report of a result without running anything', async () => {
    const out = join(work, 'rendered');
    const { code, stdout, stderr } = await runCli(['report', baseline, '--out', out], { env }).done;
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(stdout).toMatch(/^report: .*rendered\/report\.html\nalso: .*junit\.xml, .*summary\.md, 9 SVG charts in .*charts\n$/);
    for (const f of ['report.html', 'junit.xml', 'summary.md', 'charts/percentile-distribution.svg']) expect(existsSync(join(out, f)), f).toBe(true);
    expect(existsSync(join(out, 'result.json'))).toBe(false);
  });

  it('given a folder, re-renders each run in place and writes the index', async () => {
    const { code, stdout } = await runCli(['report', join(work, 'runs')], { env }).done;
    expect(code).toBe(0);
    expect(stdout).toMatch(/index: .*runs\/index\.html \(1 runs\)/);
    expect(await readFile(join(work, 'runs', 'index.html'), 'utf8')).toContain('href="baseline/report.html"');
  });

  it('exits 2 on a missing or invalid result', async () => {
    const missing = await runCli(['report', join(work, 'nope.json')], { env }).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/no such file or folder/);
    const junk = join(work, 'junk.json');
    await writeFile(junk, '{"schemaVersion": "two"}');
    const invalid = await runCli(['report', junk], { env }).done;
    expect(invalid.code).toBe(2);
    expect(invalid.stderr).toMatch(/is not a faultline result/);
    const newer = join(work, 'newer.json');
    await writeFile(newer, '{"schemaVersion": 7}');
    const refused = await runCli(['report', newer], { env }).done;
    expect(refused.code).toBe(2);
    expect(refused.stderr).toMatch(/has result schema 7, and this faultline reads schema 2 and older: upgrade faultline/);
  });
});

describe('faultline compare', () => {
  it('exits 0 when nothing regressed', async () => {
    const { code, stdout } = await runCli(['compare', baseline, baseline, '--out', join(work, 'same')], { env }).done;
    expect(code).toBe(0);
    expect(stdout).toMatch(/no regression/);
  });

  it('flags a regression injected into a copy of the fixture, exits 1, writes HTML and Markdown and the step summary', async () => {
    const current = join(work, 'current.json');
    await writeFile(current, JSON.stringify(withRegression()));
    const summary = join(work, 'step-summary.md');
    const { code, stdout } = await runCli(['compare', baseline, current, '--out', join(work, 'cmp')], { env: { GITHUB_STEP_SUMMARY: summary } }).done;
    expect(code).toBe(1);
    const p99 = fixture().designs.find((d) => d.name === 'cluster-2')!.totals.latencyUs.p99;
    const shown = (us: number) => formatLatency(us).replace('.', '\\.');
    expect(stdout).toMatch(new RegExp(`REGRESSION \\(4\\):\\n {2}cluster-2: p50 .*\\n {2}cluster-2: p90 .*\\n {2}cluster-2: p99 ${shown(p99)} → ${shown(Math.round(p99 * 1.5))} \\(\\+50%, limit ≤ \\+10%\\)`));
    expect(await readFile(join(work, 'cmp', 'compare.html'), 'utf8')).toContain('REGRESSION: 4 figures');
    const md = await readFile(join(work, 'cmp', 'compare.md'), 'utf8');
    expect(md).toMatch(/^### ❌ cluster-vs-single: 4 regressions/);
    expect(await readFile(summary, 'utf8')).toBe(`${md}\n`);

    const lenient = await runCli(['compare', baseline, current, '--out', join(work, 'cmp'), '--max-latency-increase', '60%'], { env }).done;
    expect(lenient.code).toBe(0);
  });

  it('exits 2 on a missing file, a file that is not a result, or a bad threshold', async () => {
    const missing = await runCli(['compare', baseline, join(work, 'nope.json')], { env }).done;
    expect(missing.code).toBe(2);
    expect(missing.stderr).toMatch(/cannot read .*nope\.json: ENOENT\nhint: /);
    const notJson = join(work, 'not.json');
    await writeFile(notJson, 'hello');
    expect((await runCli(['compare', notJson, baseline], { env }).done).code).toBe(2);
    const bad = await runCli(['compare', baseline, baseline, '--max-throughput-drop', 'ten'], { env }).done;
    expect(bad.code).toBe(2);
    expect(bad.stderr).toMatch(/--max-throughput-drop 'ten' is not a percentage/);
    expect((await runCli(['compare', baseline], { env }).done).code).toBe(2);
  });
});
