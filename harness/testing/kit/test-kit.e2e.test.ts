import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { HistoryRecord } from '../../metrics/sink.ts';
import type { DesignResult, RunResult } from '../../result/result.ts';
import { runCli } from '../cli.ts';
import { processesOfRun } from '../processes.ts';

const harness = fileURLToPath(new URL('../../index.ts', import.meta.url));
const kit = fileURLToPath(new URL('./index.ts', import.meta.url));
const kitEnv = { FAULTLINE_TEST_KIT: '1' };

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-kit-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Writes a scenario file importing the public harness entry and the test kit by absolute path; `body` is the object's source. */
async function scenario(file: string, body: string): Promise<string> {
  const path = join(work, file);
  await writeFile(path, `import { defineScenario, httpService, withClient } from ${JSON.stringify(harness)};
import { testMessaging, testQueue } from ${JSON.stringify(kit)};
export default defineScenario({ description: 'test kit under test', ${body} });\n`);
  return path;
}

/** What a partition said in its final log line: the independent truth. */
interface ServerTruth {
  received: number;
  dropped: number;
  duplicated: number;
}

async function serverTruth(out: string, design: string, partitions: number): Promise<ServerTruth> {
  const sum: ServerTruth = { received: 0, dropped: 0, duplicated: 0 };
  for (let i = 1; i <= partitions; i++) {
    const log = await readFile(join(out, 'logs', design, `queue-${i}.log`), 'utf8');
    const m = /test-queue final: name=queue-\d received=(\d+) dropped=(\d+) duplicated=(\d+)/.exec(log);
    expect(m, `final line of queue-${i}.log:\n${log}`).not.toBeNull();
    sum.received += Number(m![1]);
    sum.dropped += Number(m![2]);
    sum.duplicated += Number(m![3]);
  }
  return sum;
}

async function historyOf(out: string, design: DesignResult): Promise<HistoryRecord[]> {
  expect(design.historyFile).toBeDefined();
  const file = join(out, design.historyFile!);
  expect(existsSync(file)).toBe(true);
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as HistoryRecord);
}

/** Receipts in a history: all of them, distinct messages, and distinct messages first received at t ≥ 0 (in the window or the drain). */
function receipts(history: readonly HistoryRecord[]): { all: number; distinct: number; distinctFromWindow: number; acked: Set<string>; received: Set<string> } {
  const acked = new Set<string>();
  const received = new Set<string>();
  let all = 0;
  let distinctFromWindow = 0;
  for (const r of history) {
    const id = `${String(r.p)}#${String(r.s)}`;
    if (r.ev === 'ack') acked.add(id);
    if (r.ev !== 'recv') continue;
    all++;
    if (received.has(id)) continue;
    received.add(id);
    if (r.t >= 0) distinctFromWindow++;
  }
  return { all, distinct: received.size, distinctFromWindow, acked, received };
}

describe('test-messaging over test-queue through the real CLI: losses and duplicates counted exactly', () => {
  const runId = `kitdel${process.pid}`;
  const out = () => join(work, 'delivery');
  let code: number | null;
  let stderr: string;
  let result: RunResult;
  const design = (name: string): DesignResult => result.designs.find((d) => d.name === name)!;

  beforeAll(async () => {
    const file = await scenario('delivery.ts', `
      name: 'kit-delivery',
      designs: {
        lossy: testQueue({ partitions: 2, dropEvery: 25 }),
        duplicating: withClient(testQueue({ partitions: 2, duplicateEvery: 20 }), { pollIntervalMs: 10 }),
      },
      workload: testMessaging({ model: 'open', rate: 200, drainTimeout: '3s' }),
      warmup: '1s',
      duration: '3s',
      sla: ['lost == 0', 'e2e p99 < 1s', 'backlog < 100000', 'consumed >= 1'],`);
    ({ code, stderr } = await runCli(['run', file, '--out', out()], { env: { ...kitEnv, FAULTLINE_RUN_ID: runId } }).done);
    result = JSON.parse(await readFile(join(out(), 'result.json'), 'utf8')) as RunResult;
  });

  it('exits 1: the lossy design fails `lost == 0` with the exact count the servers dropped', async () => {
    expect(code, stderr).toBe(1);
    expect(result.complete).toBe(true);
    const lossy = design('lossy');
    expect(lossy.status).toBe('completed');
    const truth = await serverTruth(out(), 'lossy', 2);
    expect(truth.dropped).toBeGreaterThan(10);
    expect(lossy.checks.lost).toMatchObject({ checker: 'delivery', unit: 'count', value: truth.dropped });
    expect(lossy.checks.duplicated!.value).toBe(0);
    expect(lossy.checks.reordered!.value).toBe(0);
    expect(lossy.sla.find((v) => v.line === 'lost == 0')).toMatchObject({ pass: false, measured: truth.dropped });
    for (const line of ['e2e p99 < 1s', 'backlog < 100000', 'consumed >= 1']) expect(lossy.sla.find((v) => v.line === line)?.pass, line).toBe(true);
    expect(lossy.passed).toBe(false);
    // The drain ends as soon as every partition is empty: nothing more will come, and what never came is the checker's count.
    expect(lossy.drain).toMatchObject({ deadlineMs: 3000, complete: true });
    expect(lossy.drain!.ms).toBeLessThan(1000);
  });

  it('names real lost messages: each partition drops the 25th, 50th, … put, acked and never received', async () => {
    const lossy = design('lossy');
    const history = receipts(await historyOf(out(), lossy));
    const examples = lossy.checks.lost!.examples;
    expect(examples.length).toBe(10);
    for (const e of examples) {
      const m = /^(p[12])#(\d+) acknowledged at (-?\d+\.\d\d)s, never consumed$/.exec(e);
      expect(m, e).not.toBeNull();
      expect(Number(m![2]) % 25, e).toBe(0);
      expect(history.acked.has(`${m![1]}#${m![2]}`)).toBe(true);
      expect(history.received.has(`${m![1]}#${m![2]}`)).toBe(false);
    }
    // Whole run (warm-up included) per value; per second only the window's seconds.
    expect(lossy.checks.lost!.perSecond).toHaveLength(3);
    expect(lossy.checks.lost!.perSecond!.reduce((a, b) => a + b, 0)).toBeLessThanOrEqual(lossy.checks.lost!.value!);
  });

  it('records the entry with both endpoints, the client options, e2e, the backlog gauge, and consumed as the servers and the history tell it', async () => {
    const lossy = design('lossy');
    expect(lossy.entry?.protocol).toBe('tq');
    expect(lossy.entry?.endpoints).toHaveLength(2);
    for (const ep of lossy.entry!.endpoints) expect(ep).toMatch(/^tq:\/\/127\.0\.0\.1:\d+$/);
    expect(lossy.entry!.endpoints).toEqual(lossy.services.map((s) => s.endpoints.tq));
    expect(lossy.services.map((s) => s.name)).toEqual(['queue-1', 'queue-2']);
    expect(lossy.client).toEqual({ protocol: 'tq', options: { pollIntervalMs: 5 } });
    expect(design('duplicating').client).toEqual({ protocol: 'tq', options: { pollIntervalMs: 10 } });

    expect(lossy.distributions.e2e!.count).toBeGreaterThan(400);
    expect(lossy.gauges.backlog).toBeDefined();
    expect(lossy.gauges.backlog!.samples).toBe(3);
    expect(lossy.byOperation.publish).toMatchObject({ errors: 0 });
    expect(lossy.byOperation.publish!.ok).toBeGreaterThan(500);

    const truth = await serverTruth(out(), 'lossy', 2);
    const history = receipts(await historyOf(out(), lossy));
    // Every put the servers received was acked; every message they kept was consumed once.
    expect(history.acked.size).toBe(truth.received);
    expect(history.distinct).toBe(truth.received - truth.dropped);
    expect(history.all).toBe(truth.received - truth.dropped + truth.duplicated);
    // `consumed` counts first receipts from the window's start on, the drain included.
    expect(lossy.counters.consumed).toBe(history.distinctFromWindow);
    const servedBy = lossy.tallies.served_by!;
    expect(Object.keys(servedBy).sort()).toEqual(['queue-1', 'queue-2']);
    expect(servedBy['queue-1']! + servedBy['queue-2']!).toBe(lossy.counters.consumed);
    expect(result.scenario.metrics).toMatchObject({ e2e: { kind: 'distribution' }, consumed: { kind: 'counter' }, backlog: { kind: 'gauge' }, lost: { kind: 'check' } });
  });

  it('counts duplicates exactly: the duplicating design passes `lost == 0` and its duplicated equals the servers\' count', async () => {
    const dup = design('duplicating');
    const truth = await serverTruth(out(), 'duplicating', 2);
    expect(truth.duplicated).toBeGreaterThan(10);
    expect(truth.dropped).toBe(0);
    expect(dup.checks.duplicated!.value).toBe(truth.duplicated);
    expect(dup.checks.lost!.value).toBe(0);
    expect(dup.checks.reordered!.value).toBe(0);
    expect(dup.checks.duplicated!.examples).toHaveLength(10);
    for (const e of dup.checks.duplicated!.examples) {
      // Each partition enqueues its 20th, 40th, … put twice.
      const m = /^p[12]#(\d+) received again at -?\d+\.\d\ds \(2nd receipt\)$/.exec(e);
      expect(m, e).not.toBeNull();
      expect(Number(m![1]) % 20, e).toBe(0);
    }
    expect(dup.sla.every((v) => v.pass), JSON.stringify(dup.sla)).toBe(true);
    expect(dup.drain).toMatchObject({ complete: true });
    const history = receipts(await historyOf(out(), dup));
    expect(history.all).toBe(truth.received + truth.duplicated);
    expect(dup.counters.consumed).toBe(history.distinctFromWindow);
  });

  it('leaves no process behind', () => {
    expect(processesOfRun(runId)).toEqual([]);
  });
});

describe('an advertised address through Toxiproxy', () => {
  const runId = `kitadv${process.pid}`;
  const out = () => join(work, 'advertised');
  let code: number | null;
  let stderr: string;
  let d: DesignResult;

  beforeAll(async () => {
    const file = await scenario('advertised.ts', `
      name: 'kit-advertised',
      designs: { single: testQueue({ partitions: 1 }) },
      workload: testMessaging({ model: 'open', rate: 100 }),
      warmup: '1s',
      duration: '3s',
      faults: [{ name: 'slow', at: '0s', link: 'client->queue-1', latency: { latency: 150 } }],`);
    ({ code, stderr } = await runCli(['run', file, '--out', out()], { env: { ...kitEnv, FAULTLINE_RUN_ID: runId } }).done);
    d = (JSON.parse(await readFile(join(out(), 'result.json'), 'utf8')) as RunResult).designs[0]!;
  });

  it('has the partition advertise the proxy, and the driver\'s traffic after hello go through it', async () => {
    expect(code, stderr).toBe(0);
    const link = d.links.find((l) => l.name === 'client->queue-1');
    expect(link, JSON.stringify(d.links)).toBeDefined();
    const log = await readFile(join(out(), 'logs', 'single', 'queue-1.log'), 'utf8');
    expect(log).toContain(`advertising ${link!.listen}\n`);
    expect(link!.upstream).not.toBe(link!.listen);
    expect(log).toContain(`listening on ${link!.upstream},`);
    expect(d.entry?.endpoints).toEqual([`tq://${link!.listen}`]);
    // The toxic delays every answer by 150 ms: the acks and the takes came through the proxy.
    expect(d.byOperation.publish!.latencyUs.p50).toBeGreaterThanOrEqual(150_000);
    expect(d.distributions.e2e!.latencyUs.p50).toBeGreaterThanOrEqual(150_000);
    expect(d.checks.lost!.value).toBe(0);
    expect(d.drain?.complete).toBe(true);
  });

  it('leaves no process behind', () => {
    expect(processesOfRun(runId)).toEqual([]);
  });
});

describe('when the harness itself breaks', () => {
  it('a driver that throws before the window is a harness error: exit 5, a partial result with what ran before it', async () => {
    const runId = `kitbreak${process.pid}`;
    const file = await scenario('broken-driver.ts', `
      name: 'kit-broken-driver',
      designs: { fine: testQueue({ partitions: 1 }), broken: withClient(testQueue({ partitions: 1 }), { breakIn: 'prepare' }) },
      workload: testMessaging({ model: 'open', rate: 50 }),
      warmup: '0s',
      duration: '1s',
      sla: ['lost == 0'],`);
    const out = join(work, 'broken-driver');
    const { code, stderr } = await runCli(['run', file, '--out', out], { env: { ...kitEnv, FAULTLINE_RUN_ID: runId } }).done;
    expect(code, stderr).toBe(5);
    expect(stderr).toMatch(/design 'broken' failed inside faultline: test kit: the tq driver broke in prepare/);
    expect(stderr).toMatch(/hint: this is a bug in faultline/);
    const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(result.complete).toBe(false);
    expect(result.designs.map((d) => [d.name, d.status, d.passed])).toEqual([['fine', 'completed', true], ['broken', 'harness-error', false]]);
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('an error while stopping a design is noted beside its result and never loses what was measured', async () => {
    const runId = `kitclose${process.pid}`;
    const file = await scenario('broken-close.ts', `
      name: 'kit-broken-close',
      designs: { q: withClient(testQueue({ partitions: 1 }), { breakIn: 'close' }) },
      workload: testMessaging({ model: 'open', rate: 100 }),
      warmup: '0s',
      duration: '2s',
      sla: ['lost == 0', 'consumed >= 150'],`);
    const out = join(work, 'broken-close');
    const { code, stderr } = await runCli(['run', file, '--out', out], { env: { ...kitEnv, FAULTLINE_RUN_ID: runId } }).done;
    expect(code, stderr).toBe(0);
    const d = (JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult).designs[0]!;
    expect(d.status).toBe('completed');
    expect(d.error).toMatch(/after the window: closing the load driver: test kit: the tq driver broke in close/);
    expect(d.counters.consumed).toBeGreaterThanOrEqual(150);
    expect(d.checks.lost!.value).toBe(0);
    expect(d.sla.every((v) => v.pass)).toBe(true);
    expect(processesOfRun(runId)).toEqual([]);
  });
});

describe('designs and workloads that do not fit', () => {
  it('rejects a design that speaks nothing the workload speaks (exit 2), naming the design and both protocols', async () => {
    const runId = `kitbad${process.pid}`;
    const file = await scenario('mismatch.ts', `
      name: 'kit-mismatch',
      designs: { web: httpService() },
      workload: testMessaging({ model: 'open', rate: 100 }),
      duration: '3s',`);
    const out = join(work, 'mismatch');
    const { code, stderr } = await runCli(['run', file, '--out', out], { env: { ...kitEnv, FAULTLINE_RUN_ID: runId } }).done;
    expect(code).toBe(2);
    expect(stderr).toMatch(/designs\.web: design 'web' \(target http-service\) speaks 'http', but the 'test-messaging' workload speaks 'tq'/);
    expect(existsSync(out)).toBe(false);
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('offers the test kit only with FAULTLINE_TEST_KIT=1', async () => {
    const file = await scenario('hidden.ts', `
      name: 'kit-hidden',
      designs: { q: testQueue() },
      workload: testMessaging({ model: 'open', rate: 100 }),
      duration: '3s',`);
    const { code, stderr } = await runCli(['run', file, '--out', join(work, 'hidden')], { env: { FAULTLINE_TEST_KIT: '0' } }).done;
    expect(code).toBe(2);
    expect(stderr).toMatch(/unknown target 'test-queue'/);
    expect(stderr).toMatch(/unknown workload kind 'test-messaging'/);
  });
});
