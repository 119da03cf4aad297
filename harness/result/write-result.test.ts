import { mkdtemp, readdir, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import type { RunResult } from './result.ts';
import { writeResultFile } from './write-result.ts';

let work: string;
beforeEach(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-write-result-'));
});
afterEach(async () => {
  await rm(work, { recursive: true, force: true });
});

const doc = (designs: string[]) => ({ schemaVersion: 2, complete: false, designs: designs.map((name) => ({ name })) }) as unknown as RunResult;

describe('writeResultFile', () => {
  it('replaces result.json with the whole new document and leaves no temp file', async () => {
    const file = join(work, 'result.json');
    await writeFile(file, 'an older run');
    await writeResultFile(file, doc(['one']));
    await writeResultFile(file, doc(['one', 'two']));
    expect(JSON.parse(await readFile(file, 'utf8'))).toEqual(doc(['one', 'two']));
    expect(await readdir(work)).toEqual(['result.json']);
  });

  it('says which file it could not write, and leaves nothing behind', async () => {
    const file = join(work, 'missing', 'result.json');
    const err = await writeResultFile(file, doc([])).then(() => undefined, (e: unknown) => e);
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).message).toMatch(new RegExp(`could not write ${file}: ENOENT`));
    expect(await readdir(work)).toEqual([]);
  });
});
