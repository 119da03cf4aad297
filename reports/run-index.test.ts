import { copyFile, mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { RunResult } from '../harness/result/result.ts';
import { indexEntries, writeRunIndex } from './run-index.ts';
import { FIXTURE_FILE, fixture, hostile, messagingFixture, XSS } from './testing/fixtures.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-index-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function put(path: string, result: RunResult | string, report = false): Promise<void> {
  await mkdir(join(dir, path), { recursive: true });
  await writeFile(join(dir, path, 'result.json'), typeof result === 'string' ? result : JSON.stringify(result));
  if (report) await writeFile(join(dir, path, 'report.html'), '<!doctype html>');
}

describe('index.html of a folder of runs', () => {
  it('lists every run below the folder, newest first, linking to its report', async () => {
    await put('cluster-vs-single/20260101-100000', { ...fixture(), startedAt: '2026-01-01T10:00:00.000Z' }, true);
    await put('cluster-vs-single/20260102-100000', { ...fixture(), startedAt: '2026-01-02T10:00:00.000Z', passed: true });
    await put('other/broken', '{ not json');
    await put('other/not-ours', '{"hello": 1}');
    const entries = await indexEntries(dir);
    expect(entries.map((e) => [e.href, e.verdict.status])).toEqual([
      ['cluster-vs-single/20260102-100000/result.json', 'fail'],
      ['cluster-vs-single/20260101-100000/report.html', 'fail'],
    ]);
    const { path, runs } = await writeRunIndex(dir);
    expect(runs).toBe(2);
    const html = await readFile(path, 'utf8');
    expect(html).toContain('<a href="cluster-vs-single/20260101-100000/report.html">2026-01-01 10:00:00 UTC</a>');
    expect(html).toContain('<span class="badge fail">FAIL</span>');
    expect(html).not.toContain('<script');
  });

  it('lists schema-1 results as they are upgraded, and skips results of a newer schema', async () => {
    await mkdir(join(dir, 'old'), { recursive: true });
    await copyFile(FIXTURE_FILE, join(dir, 'old', 'result.json'));
    await put('new', messagingFixture());
    await put('newer', { ...messagingFixture(), schemaVersion: 3 } as unknown as RunResult);
    const entries = await indexEntries(dir);
    expect(entries.map((e) => [e.href, e.scenario, e.designs, e.verdict.status])).toEqual([
      ['new/result.json', 'queue-vs-stream', ['queue', 'stream'], 'fail'],
      ['old/result.json', 'cluster-vs-single', ['single', 'cluster-2'], 'fail'],
    ]);
  });

  it('escapes scenario and design names', async () => {
    await put('x', hostile());
    const html = await readFile((await writeRunIndex(dir)).path, 'utf8');
    expect(html).not.toContain(XSS);
    expect(html).not.toContain('<script>alert');
  });
});
