import { mkdir, mkdtemp, readdir, rm, writeFile } from 'node:fs/promises';
import { existsSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { newRunFolder, prepareOutFolder, RUN_FILES, timestamp } from './output-folder.ts';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-out-test-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('newRunFolder', () => {
  const now = new Date('2025-03-14T09:30:15.123Z');

  it('names the folder by the start time, to the second, creating its parents', async () => {
    const dir = await newRunFolder(join(work, 'results', 'demo'), now);
    expect(dir).toBe(join(work, 'results', 'demo', '20250314-093015'));
    expect(await readdir(dir)).toEqual([]);
  });

  it('gives runs started in the same second folders of their own, even when they ask at once', async () => {
    const parent = join(work, 'results', 'demo');
    const dirs = await Promise.all(Array.from({ length: 8 }, () => newRunFolder(parent, now)));
    expect(new Set(dirs).size).toBe(8);
    expect(dirs.map((d) => basename(d)).sort()).toEqual(['20250314-093015', ...[2, 3, 4, 5, 6, 7, 8].map((n) => `20250314-093015-${n}`)].sort());
    expect((await readdir(parent)).sort()).toEqual(dirs.map((d) => basename(d)).sort());
    // The next second sorts after every one of them: the folder list stays in start order.
    const later = await newRunFolder(parent, new Date(now.getTime() + 1000));
    expect(basename(later) > basename(dirs.sort().at(-1)!)).toBe(true);
  });

  it('never reuses a folder a run left behind', async () => {
    const parent = join(work, 'r');
    await mkdir(join(parent, timestamp(now)), { recursive: true });
    await writeFile(join(parent, timestamp(now), 'result.json'), '{}');
    expect(basename(await newRunFolder(parent, now))).toBe('20250314-093015-2');
  });
});

describe('prepareOutFolder', () => {
  it('creates a folder that does not exist, and takes an empty one or one with unrelated files', async () => {
    await prepareOutFolder(join(work, 'new', 'out'), false);
    expect(existsSync(join(work, 'new', 'out'))).toBe(true);
    await writeFile(join(work, 'new', 'out', 'notes.txt'), 'mine');
    await prepareOutFolder(join(work, 'new', 'out'), false);
    expect(await readdir(join(work, 'new', 'out'))).toEqual(['notes.txt']);
  });

  it('refuses a path that is a file, as invalid input', async () => {
    await writeFile(join(work, 'a-file'), 'x');
    const err = await prepareOutFolder(join(work, 'a-file'), false).then(() => undefined, (e: unknown) => e);
    expect((err as FaultlineError).exitCode).toBe(2);
    expect((err as FaultlineError).message).toMatch(/a-file cannot be used as the output folder: EEXIST/);
  });

  it.each(RUN_FILES)('refuses a folder that holds %s, naming the folder and --force', async (name) => {
    const dir = join(work, 'ci');
    await mkdir(dir);
    // Folders (logs, history, charts) and files alike mark a run.
    if (['logs', 'history', 'charts'].includes(name)) await mkdir(join(dir, name));
    else await writeFile(join(dir, name), 'x');
    const err = await prepareOutFolder(dir, false).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).exitCode).toBe(2);
    expect((err as FaultlineError).message).toBe(`the output folder ${dir} already holds a run (${name})`);
    expect((err as FaultlineError).hint).toMatch(/--force/);
    expect(await readdir(dir)).toEqual([name]);
  });

  it('with force, removes the old result.json (so a crash never leaves the last run\'s) and leaves every other file', async () => {
    const dir = join(work, 'ci');
    await mkdir(join(dir, 'logs', 'single'), { recursive: true });
    await writeFile(join(dir, 'result.json'), '{"old":true}');
    await writeFile(join(dir, 'report.html'), 'old');
    await writeFile(join(dir, 'notes.txt'), 'mine');
    await prepareOutFolder(dir, true);
    expect((await readdir(dir)).sort()).toEqual(['logs', 'notes.txt', 'report.html']);
  });
});
