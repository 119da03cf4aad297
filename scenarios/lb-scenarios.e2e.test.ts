import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesignResult, RunResult } from '../harness/result/result.ts';
import { runCli } from '../harness/testing/cli.ts';
import { processesOfRun } from '../harness/testing/processes.ts';

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-lb-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

async function run(scenario: string, timeScale: string, runId: string): Promise<{ code: number | null; result: RunResult }> {
  const out = join(work, scenario);
  const { code } = await runCli(['run', scenario, '--time-scale', timeScale, '--out', out], { env: { FAULTLINE_RUN_ID: runId } }).done;
  return { code, result: JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult };
}

const verdict = (d: DesignResult, line: string) => d.sla.find((v) => v.line === line);

describe('lb-algorithms, short', () => {
  const runId = `lba${process.pid}`;
  let result: RunResult;
  let code: number | null;
  const design = (name: string) => result.designs.find((d) => d.name === name)!;

  beforeAll(async () => {
    ({ code, result } = await run('lb-algorithms', '0.3', runId));
  }, 300_000);

  it('runs every design to the end with the real programs, and leaves none running', () => {
    expect(code).toBe(1);
    expect(result.designs.map((d) => [d.name, d.status])).toEqual([
      ['haproxy-roundrobin', 'completed'], ['haproxy-leastconn', 'completed'], ['nginx-round_robin', 'completed'], ['nginx-least_conn', 'completed'], ['node-cluster', 'completed'],
    ]);
    expect(design('haproxy-leastconn').services.find((s) => s.name === 'lb')?.version).toMatch(/^2\.\d+/);
    expect(design('nginx-least_conn').services.find((s) => s.name === 'lb')?.version).toMatch(/^1\.\d+/);
    expect(design('haproxy-roundrobin').links.map((l) => l.name)).toEqual(['lb->backend-1']);
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('round robin keeps a third of the requests on the slow backend; least connections sends it measurably fewer', () => {
    const line = 'during slow-backend-1: share(backend-1) < 25%';
    for (const [rr, lc] of [['haproxy-roundrobin', 'haproxy-leastconn'], ['nginx-round_robin', 'nginx-least_conn']] as const) {
      const rrShare = verdict(design(rr), line)!.measured!;
      const lcShare = verdict(design(lc), line)!.measured!;
      expect(rrShare).toBeGreaterThan(0.3);
      // The window takes in the second after the fault, when backend 1 gets its full share back:
      // least connections lands near a fifth (0.196 to 0.205 seen here, before and after the
      // engine's redesign), clearly under round robin's third.
      expect(lcShare).toBeLessThan(0.25);
      expect(lcShare).toBeLessThan(rrShare - 0.08);
    }
  });

  it('a killed backend stops receiving traffic, and its errors stop after the check and retry windows', () => {
    const d = design('haproxy-roundrobin');
    const killed = d.faults.find((f) => f.name === 'backend-2-killed')!.appliedAtMs!;
    const back = d.faults.find((f) => f.name === 'backend-2-back')!.appliedAtMs!;
    const dead = d.series.filter((r) => r.second * 1000 >= killed + 1000 && (r.second + 1) * 1000 <= back);
    expect(dead.length).toBeGreaterThanOrEqual(3);
    for (const r of dead) expect(r.tallies?.served_by?.['backend-2'] ?? 0).toBe(0);
    // A request sent to the dead backend before the active check (fall 2 × inter 1 s) marks it
    // down fails after HAProxy's 3 retries, 1 s apart: its 503 arrives up to about 5 s after
    // the kill. Errors are counted when they arrive.
    const settle = killed + 2000 + 3000 + 1000;
    const errorSeconds = d.series.filter((r) => r.errors > 0).map((r) => r.second * 1000);
    expect(errorSeconds.length).toBeGreaterThan(0);
    for (const s of errorSeconds) {
      expect(s).toBeGreaterThanOrEqual(killed - 1000);
      expect(s).toBeLessThan(settle);
    }
    expect(d.series.filter((r) => r.second * 1000 >= settle).length).toBeGreaterThanOrEqual(1);
    // nginx retries on the next backend: the kill costs no errors at all.
    expect(design('nginx-round_robin').totals.errors).toBe(0);
  });
});

describe('lb-hashing, short', () => {
  const runId = `lbh${process.pid}`;
  let result: RunResult;

  beforeAll(async () => {
    ({ result } = await run('lb-hashing', '0.5', runId));
  }, 300_000);

  it('consistent hashing remaps about 1/N of the keys while a backend is out; map-based hashing clearly more', () => {
    const during = (name: string) => result.designs.find((d) => d.name === name)!.checks.remapped!.byFault!['backend-2-out']!.during!;
    expect(result.designs.find((d) => d.name === 'haproxy-uri-consistent')!.checks.keys!.value).toBe(500);
    expect(during('haproxy-uri-consistent')).toBeGreaterThan(0.1);
    expect(during('haproxy-uri-consistent')).toBeLessThan(0.4);
    expect(during('nginx-hash-consistent')).toBeLessThan(0.4);
    expect(during('haproxy-uri-map')).toBeGreaterThan(0.5);
    expect(verdict(result.designs.find((d) => d.name === 'haproxy-uri-map')!, 'during backend-2-out: remapped < 40%')?.pass).toBe(false);
  });

  it('every key goes home when the backend returns', () => {
    for (const d of result.designs) expect(d.checks.remapped!.byFault!['backend-2-out']!.after).toBeLessThan(0.05);
    expect(processesOfRun(runId)).toEqual([]);
  });
});
