import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpServiceSpec } from '../../targets/http-service/http-service.ts';
import { nodeClusterTarget } from '../../targets/node-cluster/node-cluster.ts';
import { FaultlineError } from '../errors.ts';
import { processesOfRun } from '../testing/processes.ts';
import { LocalRuntime } from './local-runtime.ts';
import type { ServiceSpec } from './service-spec.ts';
import { Wait } from './wait.ts';

async function get(url: string, timeoutMs = 2000): Promise<{ status: number; servedBy: string | null; body: string }> {
  const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
  return { status: res.status, servedBy: res.headers.get('x-served-by'), body: await res.text() };
}

const runId = `rt${process.pid}`;
let logDir: string;

beforeAll(async () => {
  logDir = await mkdtemp(join(tmpdir(), 'faultline-test-logs-'));
});
afterAll(async () => {
  await rm(logDir, { recursive: true, force: true });
  expect(processesOfRun(runId)).toEqual([]);
});

function ourTempDirs(): string[] {
  return readdirSync(tmpdir()).filter((d) => d.startsWith(`faultline-${runId}-`));
}

describe('LocalRuntime', () => {
  it('starts a service on loopback, freezes, resumes, restarts and kills it, and cleans up', async () => {
    const runtime = new LocalRuntime({ runId, logDir });
    const svc = await runtime.start(httpServiceSpec('svc'));
    expect(svc.endpoint().host).toBe('127.0.0.1');
    const first = await get(`${svc.url()}/work?ms=1`);
    expect(first.status).toBe(200);
    expect(Number(first.servedBy)).toBeGreaterThan(0);
    expect(processesOfRun(runId)).toContain(Number(first.servedBy));
    expect(ourTempDirs()).toHaveLength(1);

    await svc.pause();
    await expect(get(`${svc.url()}/health`, 300)).rejects.toThrow();
    await svc.resume();
    expect((await get(`${svc.url()}/health`)).status).toBe(200);

    const port = svc.endpoint().port;
    await svc.restart();
    expect(svc.endpoint().port).toBe(port);
    const after = await get(`${svc.url()}/recipes/7`);
    expect(after.servedBy).not.toBe(first.servedBy);
    expect(JSON.parse(after.body)).toMatchObject({ id: 7, title: 'Recipe 7' });

    await svc.kill('SIGKILL');
    await expect(get(`${svc.url()}/health`, 500)).rejects.toThrow();
    await runtime.stopAll();
    expect(processesOfRun(runId)).toEqual([]);
    expect(ourTempDirs()).toEqual([]);
    expect(existsSync(join(logDir, 'svc.log'))).toBe(true);
  });

  it('runs node:cluster workers in one process group, and stopping it stops them all', async () => {
    await using runtime = new LocalRuntime({ runId });
    const spec = nodeClusterTarget.topology({ workers: 2 }).services[0]!;
    const svc = await runtime.start(spec);
    const pids = new Set<string>();
    for (let i = 0; i < 40 && pids.size < 2; i++) {
      // A new connection each time: round robin hands out connections, not requests.
      const res = await fetch(`${svc.url()}/work?ms=1`, { headers: { connection: 'close' } });
      pids.add(res.headers.get('x-served-by') ?? '');
      await res.text();
    }
    expect(pids.size).toBe(2);
    expect(processesOfRun(runId).length).toBe(3);
    await svc.stop();
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('names the service and shows its log when it exits before it is ready', async () => {
    const runtime = new LocalRuntime({ runId });
    const crashing: ServiceSpec = {
      name: 'crasher',
      target: 'test',
      ports: ['http'],
      local: () => ({ command: process.execPath, args: ['-e', "console.error('boom: port taken'); process.exit(3)"] }),
      ready: Wait.forTcp('http', 5000),
      program: { name: 'node', version: async () => process.version },
    };
    const err = await runtime.start(crashing).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).code).toBe('target-start');
    expect((err as FaultlineError).exitCode).toBe(3);
    expect((err as FaultlineError).message).toMatch(/service 'crasher' \(test\) failed to start: it exited with code 3/);
    expect((err as FaultlineError).detail).toContain('boom: port taken');
    expect(ourTempDirs()).toEqual([]);
    await runtime.stopAll();
  });

  it('gives up on a service that never becomes ready, and on a missing program', async () => {
    const runtime = new LocalRuntime({ runId });
    const silent: ServiceSpec = {
      name: 'silent',
      target: 'test',
      ports: ['http'],
      local: () => ({ command: process.execPath, args: ['-e', 'setInterval(() => {}, 1000)'] }),
      ready: Wait.forTcp('http', 400),
      program: { name: 'node', version: async () => process.version },
    };
    await expect(runtime.start(silent)).rejects.toThrow(/not ready after 400 ms \(waiting for TCP connect to port http\)/);
    await expect(runtime.start({ ...silent, name: 'missing', local: () => ({ command: 'no-such-program-xyz', args: [] }) })).rejects.toThrow(/program 'no-such-program-xyz' was not found/);
    await runtime.stopAll();
    expect(processesOfRun(runId)).toEqual([]);
    expect(ourTempDirs()).toEqual([]);
  });
});
