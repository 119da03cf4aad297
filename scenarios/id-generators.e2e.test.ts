import { createReadStream } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesignResult, RunResult } from '../harness/result/result.ts';
import { runCli } from '../harness/testing/cli.ts';
import { processesOfRun } from '../harness/testing/processes.ts';

const DESIGNS = ['snowflake-wait', 'snowflake-refuse', 'snowflake-unguarded', 'snowflake-shared-worker', 'sonyflake', 'uuidv7', 'segment', 'redis-incr'];
const NO_DUPLICATES = ['snowflake-wait', 'snowflake-refuse', 'sonyflake', 'uuidv7', 'segment', 'redis-incr'];

/** Duplicates in a design's history, counted with a plain Set: the test's own number, not the checker's. */
async function duplicatesIn(file: string): Promise<{ ids: number; duplicates: number }> {
  const seen = new Set<string>();
  let ids = 0;
  for await (const line of createInterface({ input: createReadStream(file) })) {
    const r = JSON.parse(line) as { ev?: string; ids?: string[] };
    if (r.ev !== 'ids') continue;
    for (const id of r.ids!) seen.add(id);
    ids += r.ids!.length;
  }
  return { ids, duplicates: ids - seen.size };
}

describe('id-generators, short, through the CLI: eight generators, one instance stepped back 2 s', () => {
  const runId = `idgen${process.pid}`;
  let work: string;
  let out: string;
  let code: number | null;
  let result: RunResult;
  const design = (name: string): DesignResult => result.designs.find((d) => d.name === name)!;
  const verdict = (d: DesignResult, line: string) => d.sla.find((v) => v.line === line);

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-id-generators-test-'));
    out = join(work, 'out');
    // 0.4: a 6 s window at 1,500 calls/s; the clock of id-1 steps back 2 s at 2 s.
    ({ code } = await runCli(['run', 'id-generators', '--runtime', 'local', '--time-scale', '0.4', '--out', out], { env: { FAULTLINE_RUN_ID: runId } }).done);
    result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  }, 400_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('runs every design to the end with the clock fault applied on id-1, and leaves nothing running', () => {
    expect(result.designs.map((d) => [d.name, d.status])).toEqual(DESIGNS.map((n) => [n, 'completed']));
    for (const d of result.designs) {
      expect(d.faults.map((f) => [f.name, f.service, f.error]), d.name).toEqual([['clock-back', 'id-1', undefined]]);
      expect(d.faults[0]!.appliedAtMs, d.name).toBeDefined();
      expect(Object.keys(d.tallies.served_by ?? {}).sort(), d.name).toEqual(['id-1', 'id-2', 'id-3']);
    }
    expect(processesOfRun(runId)).toEqual([]);
  });

  it("counts each design's duplicates exactly as a plain Set over its history does", async () => {
    for (const d of result.designs) {
      // The history holds the warm-up's IDs too (the checker reads them all); the counter, the window's.
      const { ids, duplicates } = await duplicatesIn(join(out, 'history', `${d.name}.jsonl`));
      expect(ids, d.name).toBeGreaterThan(d.counters.ids_issued!);
      expect(d.checks.duplicate_ids?.value, d.name).toBe(duplicates);
    }
  });

  it('finds duplicates where a generator trusts its clock or shares a worker id, and none elsewhere', () => {
    expect(design('snowflake-unguarded').checks.duplicate_ids!.value).toBeGreaterThan(0);
    // The step back shows as exactly one ID lower than the one before it, on id-1.
    expect(design('snowflake-unguarded').checks.non_monotonic!.value).toBe(1);
    expect(design('snowflake-shared-worker').checks.duplicate_ids!.value).toBeGreaterThan(0);
    for (const name of NO_DUPLICATES) {
      expect(design(name).checks.duplicate_ids!.value, name).toBe(0);
      expect(verdict(design(name), 'duplicate_ids == 0')?.pass, name).toBe(true);
    }
    for (const name of ['snowflake-unguarded', 'snowflake-shared-worker']) expect(verdict(design(name), 'duplicate_ids == 0')?.pass, name).toBe(false);
  });

  it('shows what keeping IDs unique costs: waiting stalls calls to id-1, refusing fails them', () => {
    const wait = design('snowflake-wait');
    expect(wait.counters.clock_waits).toBeGreaterThan(0);
    expect(wait.totals.errors).toBe(0);
    // A third of the calls wait up to the 2 s the clock lost: far more than 1% of the window after the step.
    expect(verdict(wait, 'during clock-back: p99 < 100ms')?.pass).toBe(false);
    const refuse = design('snowflake-refuse');
    expect(refuse.totals.errorsByKind.id_refused).toBeGreaterThan(0);
    expect(refuse.totals.errors).toBe(refuse.totals.errorsByKind.id_refused);
    expect(verdict(refuse, 'errors < 1%')?.pass).toBe(false);
    // No time in a counter's IDs: the clock changes nothing for them.
    for (const name of ['segment', 'redis-incr']) expect(design(name).counters.clock_waits ?? 0, name).toBe(0);
    expect(code).toBe(1);
  });
});
