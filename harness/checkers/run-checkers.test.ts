import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CheckerDefinition } from './checker.ts';
import { readHistory, runCheckers } from './run-checkers.ts';

let dir: string;
let file: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-checkers-'));
  file = join(dir, 'history.jsonl');
  const lines = Array.from({ length: 30 }, (_, i) => JSON.stringify({ t: i * 100 - 500, n: i }));
  await writeFile(file, `${lines.join('\n')}\n`);
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** Counts records with an odd `n` (those are "lost"), with one example each. */
const odd: CheckerDefinition = {
  name: 'odd',
  counts: { lost: { description: 'odd records', unit: 'count', better: 'lower' } },
  async check({ history }) {
    const examples: string[] = [];
    for await (const r of history()) if ((r.n as number) % 2 === 1) examples.push(`#${String(r.n)} at ${r.t} ms`);
    return { lost: { value: examples.length, examples } };
  },
};

describe('runCheckers', () => {
  it('hands every record back in order and keeps at most 10 examples per count', async () => {
    const records = [];
    for await (const r of readHistory(file)) records.push(r);
    expect(records.map((r) => r.n)).toEqual(Array.from({ length: 30 }, (_, i) => i));
    const checks = await runCheckers([odd], file, [], 3000);
    expect(checks.lost).toMatchObject({ checker: 'odd', unit: 'count', value: 15 });
    expect(checks.lost!.examples).toHaveLength(10);
    expect(checks.lost!.examples[0]).toBe('#1 at -400 ms');
  });

  it('reads no history as empty, and fails loudly when a checker leaves out a count it declared', async () => {
    expect(await runCheckers([odd], undefined, [], 1000)).toEqual({ lost: { checker: 'odd', unit: 'count', value: 0, examples: [] } });
    const forgetful: CheckerDefinition = { ...odd, counts: { ...odd.counts, duplicated: { description: 'x', unit: 'count', better: 'lower' } } };
    await expect(runCheckers([forgetful], file, [], 1000)).rejects.toThrow(/declared the count 'duplicated' but did not return it/);
  });
});
