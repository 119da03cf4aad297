import { copyFile, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { FaultlineError } from '../harness/errors.ts';
import { readResultFile } from './read-result.ts';
import { FAULT_FIXTURE_FILE, faultFixture, messagingFixture } from './testing/fixtures.ts';

let dir: string;
beforeEach(async () => {
  dir = await mkdtemp(join(tmpdir(), 'faultline-read-result-test-'));
});
afterEach(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function refusal(file: string): Promise<FaultlineError> {
  const err: unknown = await readResultFile(file).then(() => undefined, (e: unknown) => e);
  expect(err).toBeInstanceOf(FaultlineError);
  expect((err as FaultlineError).code).toBe('invalid-argument');
  return err as FaultlineError;
}

describe('readResultFile', () => {
  it('upgrades a schema-1 result as it reads it', async () => {
    const file = join(dir, 'result.json');
    await copyFile(FAULT_FIXTURE_FILE, file);
    const result = await readResultFile(file);
    expect(result.schemaVersion).toBe(2);
    expect(result).toEqual(faultFixture());
  });

  it('reads a schema-2 result as it is', async () => {
    const file = join(dir, 'result.json');
    await writeFile(file, JSON.stringify(messagingFixture()));
    expect(await readResultFile(file)).toEqual(messagingFixture());
  });

  it('refuses a result of a newer schema, naming both versions, and says to upgrade faultline', async () => {
    const file = join(dir, 'result.json');
    await writeFile(file, JSON.stringify({ ...messagingFixture(), schemaVersion: 3 }));
    const err = await refusal(file);
    expect(err.message).toBe(`${file} has result schema 3, and this faultline reads schema 2 and older: upgrade faultline to read it (it was written by faultline 0.1.0)`);
  });

  it('says why a file is not a result: missing, not JSON, not a result', async () => {
    expect((await refusal(join(dir, 'missing.json'))).message).toBe(`cannot read ${join(dir, 'missing.json')}: ENOENT`);
    const junk = join(dir, 'junk.json');
    await writeFile(junk, '{ not json');
    expect((await refusal(junk)).message).toMatch(new RegExp(`^${junk} is not JSON: `));
    await writeFile(junk, '{"schemaVersion": 1, "scenario": {"name": "x"}}');
    expect((await refusal(junk)).message).toBe(`${junk} is not a faultline result: it has no designs list`);
  });
});
