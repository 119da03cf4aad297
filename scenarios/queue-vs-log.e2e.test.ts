import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesignResult, RunResult } from '../harness/result/result.ts';
import { runCli } from '../harness/testing/cli.ts';
import { processesOfRun } from '../harness/testing/processes.ts';

const KAFKA = ['kafka-acks-all', 'kafka-acks-1'];

describe('queue-vs-log, short, on a real RabbitMQ broker and two real Kafka brokers', () => {
  const runId = `qvl${process.pid}`;
  let work: string;
  let out: string;
  let code: number | null;
  let stderr: string;
  let result: RunResult;
  const design = (name: string): DesignResult => result.designs.find((d) => d.name === name)!;
  const verdict = (d: DesignResult, line: string) => d.sla.find((v) => v.line === line);
  const brokerLog = (name: string) => readFile(join(out, 'logs', name, 'broker.log'), 'utf8');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-queue-vs-log-test-'));
    out = join(work, 'out');
    // 0.4: an 18 s window; the restart begins at 2 s, the crash at 12 s.
    ({ code, stderr } = await runCli(['run', 'queue-vs-log', '--runtime', 'local', '--time-scale', '0.4', '--out', out], { env: { FAULTLINE_RUN_ID: runId } }).done);
    result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  }, 400_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('runs the three designs to the end, each on its own broker named broker, restarts it and crashes a consumer, and leaves nothing running', async () => {
    expect(result.designs.map((d) => [d.name, d.status, d.entry?.protocol])).toEqual([['rabbitmq-quorum', 'completed', 'amqp'], ['kafka-acks-all', 'completed', 'kafka'], ['kafka-acks-1', 'completed', 'kafka']]);
    expect(design('rabbitmq-quorum').services.map((s) => [s.name, s.program])).toEqual([['broker', 'rabbitmq-server']]);
    for (const name of KAFKA) expect(design(name).services.map((s) => [s.name, s.program]), name).toEqual([['broker', 'kafka']]);
    for (const d of result.designs) {
      expect(d.faults.map((f) => [f.name, f.service ?? f.client, f.error]), d.name).toEqual([['broker-restart', 'broker', undefined], ['consumer-crash', 'consumer-1', undefined]]);
      expect(d.faults.every((f) => f.appliedAtMs !== undefined && f.removedAtMs !== undefined), d.name).toBe(true);
      // Every count below is exact only once consumers have taken all the broker held.
      expect(d.drain?.complete, d.name).toBe(true);
      expect(Object.keys(d.tallies.served_by ?? {}).sort(), d.name).toEqual(['consumer-1', 'consumer-2', 'consumer-3']);
    }
    // The brokers' own logs: each booted twice, and Kafka found its storage the second time
    // (only its first boot starts on an empty metadata log).
    expect((await brokerLog('rabbitmq-quorum')).match(/Server startup complete/g)).toHaveLength(2);
    for (const name of KAFKA) {
      const log = await brokerLog(name);
      expect(log.match(/Performing controller activation/g), name).toHaveLength(2);
      expect(log.match(/The metadata log appears to be empty/g), name).toHaveLength(1);
    }
    expect(processesOfRun(runId)).toEqual([]);
    expect(stderr).not.toMatch(/still held the process/);
    expect((await readdir(join(out, 'history'))).sort()).toEqual(['kafka-acks-1.jsonl', 'kafka-acks-all.jsonl', 'rabbitmq-quorum.jsonl']);
  });

  it('loses nothing the broker acknowledged with Kafka at acks=all and with the quorum queue', () => {
    for (const name of ['kafka-acks-all', 'rabbitmq-quorum']) {
      expect(design(name).checks.lost?.value, name).toBe(0);
      expect(verdict(design(name), 'lost == 0'), name).toMatchObject({ pass: true, measured: 0 });
    }
  });

  it('keeps every key in order through a Kafka topic written one request at a time, across the restart and the crash', () => {
    expect(design('kafka-acks-all').checks.reordered_in_key?.value).toBe(0);
    expect(verdict(design('kafka-acks-all'), 'reordered_in_key == 0')).toMatchObject({ pass: true, measured: 0 });
  });

  it("exits 1: a crashed Kafka group member holds its partitions until its session times out, so the group's end-to-end p99 during the crash misses 1 s", () => {
    expect(code).toBe(1);
    // The coordinator notices the dead member only after sessionTimeoutMs (6 s, a timer of the
    // broker, not a speed of this machine), and the member that replaces it cannot join before
    // then: messages due during the crash wait for it. A slower machine only waits longer.
    for (const name of KAFKA) expect(verdict(design(name), 'during consumer-crash: e2e p99 < 1s')?.pass, name).toBe(false);
  });
});
