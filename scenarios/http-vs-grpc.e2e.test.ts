import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesignResult, RunResult } from '../harness/result/result.ts';
import { runCli } from '../harness/testing/cli.ts';
import { processesOfRun } from '../harness/testing/processes.ts';
import scenario from './http-vs-grpc.ts';

/** Each call's share of the mix, out of 10, as the scenario weighs them. */
const WEIGHTS: Record<string, number> = Object.fromEntries(scenario.workload.calls.map((c) => [c.name, c.weight]));
const CYCLE = Object.values(WEIGHTS).reduce((a, b) => a + b, 0);

describe('http-vs-grpc, short, through the CLI: one service, the same calls as JSON/HTTP and as gRPC', () => {
  const runId = `hvg${process.pid}`;
  let work: string;
  let code: number | null;
  let stderr: string;
  let result: RunResult;
  const design = (name: string): DesignResult => result.designs.find((d) => d.name === name)!;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-http-vs-grpc-test-'));
    const out = join(work, 'out');
    // 0.25: a 5 s window at 500 calls/s after a 0.75 s warm-up.
    ({ code, stderr } = await runCli(['run', 'http-vs-grpc', '--runtime', 'local', '--time-scale', '0.25', '--out', out], { env: { FAULTLINE_RUN_ID: runId } }).done);
    result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  }, 300_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('runs both designs to the end, each speaking its protocol to the same program, and leaves nothing running', () => {
    // The SLA is judged on whatever this machine manages; the run itself must not break (exit 0 or 1).
    expect([0, 1], stderr).toContain(code);
    expect(result.designs.map((d) => [d.name, d.status, d.error])).toEqual([['http', 'completed', undefined], ['grpc', 'completed', undefined]]);
    for (const name of ['http', 'grpc']) {
      const d = design(name);
      expect(d.client?.protocol, name).toBe(name);
      expect(d.entry!.endpoints, name).toEqual([expect.stringMatching(new RegExp(`^${name}://127\\.0\\.0\\.1:\\d+$`))]);
      expect(d.services.map((s) => [s.name, s.target]), name).toEqual([['service', 'recipe-service']]);
    }
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('sends both designs the same calls in the same proportions, each call answered by the service', () => {
    for (const d of result.designs) {
      const sent = d.load.sent;
      expect(d.totals.ops, d.name).toBe(sent);
      // A window of `sent` consecutive calls of the fixed cycle holds each call its weight per cycle, give or take one cycle.
      for (const [name, weight] of Object.entries(WEIGHTS)) {
        const ops = d.byOperation[name]!.ops;
        expect(ops, `${d.name} ${name}`).toBeGreaterThanOrEqual(Math.floor(sent / CYCLE) * weight);
        expect(ops, `${d.name} ${name}`).toBeLessThanOrEqual(Math.ceil(sent / CYCLE) * weight);
      }
      expect(Object.keys(d.tallies.served_by ?? {}), d.name).toEqual(['service']);
    }
    expect(design('http').load.sent).toBe(design('grpc').load.sent);
  });

  it("times every completed stream's first and last item and counts its items", () => {
    for (const d of result.designs) {
      const lists = d.byOperation['list-20']!;
      expect(d.distributions.first_item!.count, d.name).toBeGreaterThanOrEqual(lists.ok);
      expect(d.distributions.last_item!.count, d.name).toBe(lists.ok);
      expect(d.counters.items, d.name).toBeGreaterThanOrEqual(20 * lists.ok);
      expect(d.distributions.first_item!.latencyUs.p50, d.name).toBeLessThanOrEqual(d.distributions.last_item!.latencyUs.p50);
    }
  });

  it("records throughput, p50/p99 and the service's CPU per call for each protocol", () => {
    for (const d of result.designs) {
      expect(d.totals.throughput, d.name).toBeGreaterThan(0);
      expect(d.totals.latencyUs.p50, d.name).toBeGreaterThan(0);
      expect(d.totals.latencyUs.p99, d.name).toBeGreaterThanOrEqual(d.totals.latencyUs.p50);
      expect(d.resources!.byService.service!.cpuUsPerOp, d.name).toBeGreaterThan(0);
    }
  });
});
