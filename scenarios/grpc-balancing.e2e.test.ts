import { mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesignResult, RunResult } from '../harness/result/result.ts';
import { runCli } from '../harness/testing/cli.ts';
import { processesOfRun, processesWithCwdIn } from '../harness/testing/processes.ts';
import { secondsBefore, servedIn } from '../harness/testing/served.ts';

const backendNames = ['backend-1', 'backend-2', 'backend-3'];
const callLevel = ['haproxy-h2', 'nginx-grpc'];


const verdict = (d: DesignResult, line: string) => d.sla.find((v) => v.line === line)!;

describe('grpc-balancing, short, through the CLI: one channel through connection- and call-level balancers, a backend killed', () => {
  const runId = `grb${process.pid}`;
  let work: string;
  let tmp: string;
  let code: number | null;
  let stderr: string;
  let result: RunResult;
  const design = (name: string): DesignResult => result.designs.find((d) => d.name === name)!;
  /** Window seconds wholly before the kill. */
  const before = (d: DesignResult) => secondsBefore(d, 'backend-2-killed');

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-grpc-balancing-test-'));
    // A TMPDIR of the run's own: nginx writes its title over its environment, so its leftovers are found by their working directory.
    tmp = join(work, 'tmp');
    await mkdir(tmp);
    const out = join(work, 'out');
    // 0.5: a 10 s window at 300 calls/s, backend 2 killed from 3 s for 2 s.
    ({ code, stderr } = await runCli(['run', 'grpc-balancing', '--runtime', 'local', '--time-scale', '0.5', '--out', out], { env: { FAULTLINE_RUN_ID: runId, TMPDIR: tmp } }).done);
    result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
  }, 300_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('runs every design to the end with the real balancers and backends, the load speaking gRPC on one channel, and leaves nothing running', () => {
    // Connection-level balancing misses the SLA by design: exit 1, never a broken run.
    expect(code, stderr).toBe(1);
    expect(result.designs.map((d) => [d.name, d.status, d.error])).toEqual([
      ['haproxy-tcp', 'completed', undefined], ['haproxy-h2', 'completed', undefined], ['nginx-grpc', 'completed', undefined],
    ]);
    for (const d of result.designs) {
      expect(d.client?.protocol, d.name).toBe('grpc');
      expect(d.entry!.endpoints, d.name).toEqual([expect.stringMatching(/^grpc:\/\/127\.0\.0\.1:\d+$/)]);
      expect(d.services.map((s) => [s.name, s.target]), d.name).toEqual([...backendNames.map((b) => [b, 'recipe-service']), ['lb', d.name.startsWith('nginx') ? 'nginx' : 'haproxy']]);
    }
    expect(processesOfRun(runId)).toEqual([]);
    expect(processesWithCwdIn(tmp)).toEqual([]);
  });

  it('accounts for every call: served by a backend, or failed as unavailable or past its deadline', () => {
    for (const d of result.designs) {
      expect(d.totals.ops, d.name).toBe(d.load.sent);
      expect(d.totals.ok + d.totals.errors, d.name).toBe(d.totals.ops);
      // Every successful call names its backend; so does a failed one whose backend had already sent its headers (it died, or its answer came after the deadline).
      const served = Object.values(d.tallies.served_by ?? {}).reduce((a, b) => a + b, 0);
      expect(served, d.name).toBeGreaterThanOrEqual(d.totals.ok);
      expect(served, d.name).toBeLessThanOrEqual(d.totals.ops);
      for (const kind of Object.keys(d.totals.errorsByKind)) expect(['grpc_unavailable', 'grpc_deadline_exceeded'], `${d.name} ${kind}`).toContain(kind);
    }
  });

  it('before the kill: TCP mode pins the channel to one backend; HTTP/2 mode and grpc_pass give each backend a third, ± 5 points', () => {
    const tcp = servedIn(design('haproxy-tcp'), before(design('haproxy-tcp')));
    expect(Object.keys(tcp), JSON.stringify(tcp)).toHaveLength(1);
    expect(backendNames).toContain(Object.keys(tcp)[0]);
    for (const name of callLevel) {
      const c = servedIn(design(name), before(design(name)));
      const total = Object.values(c).reduce((a, b) => a + b, 0);
      expect(total, name).toBeGreaterThan(0);
      for (const b of backendNames) expect(Math.abs((c[b] ?? 0) / total - 1 / 3), `${name} ${b}: ${JSON.stringify(c)}`).toBeLessThanOrEqual(0.05);
      expect(verdict(design(name), 'before backend-2-killed: share(backend-1) > 28%').pass, name).toBe(true);
    }
    expect(verdict(design('haproxy-tcp'), 'before backend-2-killed: share(backend-2) > 28%').measured).toBe(tcp['backend-2'] ? 1 : 0);
  });

  it('while it is dead, a call-level balancer sends backend 2 (next to) nothing; calls in flight on it fail as grpc_unavailable', () => {
    // The few calls it may serve in the window are those it answered as the kill landed, or after its restart.
    for (const name of callLevel) expect(verdict(design(name), 'during backend-2-killed: share(backend-2) < 5%').pass, name).toBe(true);
    const tcp = design('haproxy-tcp');
    // The channel's one connection died with its backend only if it was on backend 2.
    if (servedIn(tcp, before(tcp))['backend-2']) expect(tcp.totals.errorsByKind.grpc_unavailable, 'haproxy-tcp').toBeGreaterThan(0);
    else expect(tcp.totals.errors, 'haproxy-tcp').toBe(0);
    // nginx passes no call to a refused backend: whatever fails was in flight there.
    expect(Object.keys(design('nginx-grpc').totals.errorsByKind).filter((k) => k !== 'grpc_unavailable')).toEqual([]);
  });

  it('once backend 2 is back: the TCP channel stays on one backend; the call-level balancers take backend 2 back and recover', () => {
    const tcp = design('haproxy-tcp');
    const removed = tcp.faults.find((f) => f.name === 'backend-2-killed')!.removedAtMs!;
    // Seconds wholly after the restart: every backend is up, so the channel's connection is on a live one and stays there.
    const settled = tcp.series.filter((s) => s.second * 1000 >= removed + 1000);
    expect(settled.length).toBeGreaterThanOrEqual(2);
    const responders = settled.map((r) => Object.keys(r.tallies?.served_by ?? {}));
    for (const r of responders) expect(r, JSON.stringify(responders)).toHaveLength(1);
    expect(new Set(responders.flat()).size, JSON.stringify(responders)).toBe(1);
    for (const name of callLevel) {
      const d = design(name);
      expect(verdict(d, 'after backend-2-killed: share(backend-2) > 10%').pass, name).toBe(true);
      expect(verdict(d, 'after backend-2-killed: recovery < 3s').pass, name).toBe(true);
      // The last second of the window: every backend serves again.
      expect(Object.keys(d.series.at(-1)!.tallies?.served_by ?? {}).sort(), name).toEqual(backendNames);
    }
  });
});
