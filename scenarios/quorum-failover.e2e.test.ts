import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesignResult, RunResult } from '../harness/result/result.ts';
import { runCli } from '../harness/testing/cli.ts';
import { processesOfRun } from '../harness/testing/processes.ts';

describe('quorum-failover, short, on two real 3-node RabbitMQ clusters', () => {
  const runId = `qfo${process.pid}`;
  let work: string;
  let result: RunResult;
  let stderr: string;
  const design = (name: string): DesignResult => result.designs.find((d) => d.name === name)!;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-quorum-test-'));
    const out = join(work, 'out');
    ({ stderr } = await runCli(['run', 'quorum-failover', '--runtime', 'local', '--time-scale', '0.75', '--out', out], { env: { FAULTLINE_RUN_ID: runId } }).done);
    result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  }, 400_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('forms each cluster from three nodes and their epmd, kills and restarts node 1, and leaves nothing running', () => {
    for (const d of result.designs) {
      expect(d.status, d.name).toBe('completed');
      expect(d.services.map((s) => s.name)).toEqual(['rabbitmq-epmd', 'rabbitmq-1', 'rabbitmq-2', 'rabbitmq-3']);
      expect(d.entry?.endpoints).toHaveLength(3);
      expect(d.faults.map((f) => [f.name, f.error, f.removedAtMs !== undefined])).toEqual([['node-1-down', undefined, true]]);
      // Clients spread over the nodes: every consumer took messages.
      expect(Object.keys(d.tallies.served_by ?? {}).sort()).toEqual(['consumer-1', 'consumer-2', 'consumer-3']);
    }
    expect(processesOfRun(runId)).toEqual([]);
    expect(stderr).not.toMatch(/still held the process/);
  });

  it('the quorum queue loses nothing; the classic queue, whose home node died, loses messages the broker confirmed', () => {
    expect(design('quorum').checks.lost?.value).toBe(0);
    // Publishes through nodes 2 and 3 reached an exchange whose queue was down with node 1: the
    // broker confirmed them and dropped them.
    expect(design('classic').checks.lost?.value).toBeGreaterThan(0);
    expect(design('classic').checks.lost?.examples[0]).toMatch(/acknowledged at .*, never consumed/);
  });
});
