import { readdirSync, readlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { rpcDriver } from '../harness/drivers/rpc/rpc-driver.ts';
import { rpc } from '../harness/drivers/rpc/rpc-workload.ts';
import { LocalRuntime } from '../harness/runtime/local-runtime.ts';
import type { Endpoint } from '../harness/runtime/runtime.ts';
import type { Topology } from '../harness/runtime/service-spec.ts';
import { drive } from '../harness/testing/drive.ts';
import { processesOfRun } from '../harness/testing/processes.ts';
import { haproxyTarget } from './haproxy/haproxy.ts';
import { nginxTarget } from './nginx/nginx.ts';

const runId = `glb${process.pid}`;
let runtime: LocalRuntime;
const links: Record<string, Endpoint> = {};
const backendNames = ['backend-1', 'backend-2', 'backend-3'];
const grpcBackends = { backends: 3, backendTarget: 'recipe-service' } as const;

/** Live processes started in this file's service dirs (nginx rewrites its environment, so `processesOfRun` cannot see it). */
function processesInRunDirs(): number[] {
  const prefix = join(tmpdir(), `faultline-${runId}-`);
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readlinkSync(`/proc/${entry}/cwd`).startsWith(prefix)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

// Three gRPC recipe-service backends, built as the balancer targets build them, shared by every
// balancer of this file; each balancer is started and stopped in turn.
beforeAll(async () => {
  runtime = new LocalRuntime({ runId });
  const topology = haproxyTarget.topology(haproxyTarget.options.parse(grpcBackends));
  for (const spec of topology.services.filter((s) => s.name !== 'lb')) {
    const svc = await runtime.start(spec);
    links[`lb->${spec.name}`] = svc.endpoint();
  }
}, 60_000);
afterAll(async () => {
  await runtime.stopAll();
  expect(processesOfRun(runId)).toEqual([]);
  expect(processesInRunDirs()).toEqual([]);
});

// 300 calls/s for 1 s, open: the schedule holds exactly 300 unary calls, all on one channel.
const RATE = 300;
const workload = rpc({ model: 'open', rate: RATE, deadline: '2s', calls: [{ method: 'GetRecipe', args: { id: 7, size: 256 } }] });

/** Starts the balancer of `topology` in front of the shared backends and drives one channel of unary calls through it; returns who served how many. */
async function servedThrough(topology: Topology): Promise<{ sent: number; ok: number; servedBy: Record<string, number> }> {
  const svc = await runtime.start(topology.services.find((s) => s.name === 'lb')!, { links });
  try {
    const { summary } = await drive(rpcDriver, 'grpc', [svc.endpoint('grpc')], workload, { channels: 1 }, { windowMs: 1000 });
    return { sent: summary.sends.sent, ok: summary.totals.ok, servedBy: summary.tallies.served_by ?? {} };
  } finally {
    await svc.stop();
  }
}

describe('gRPC through load balancers, one channel', () => {
  it.each([
    ['nginx grpc_pass', nginxTarget.topology(nginxTarget.options.parse(grpcBackends))],
    ['haproxy h2', haproxyTarget.topology(haproxyTarget.options.parse({ ...grpcBackends, mode: 'h2' }))],
  ])('%s balances every call: each of 3 backends serves a third of them, ± 5 points', async (_name, topology) => {
    const { sent, ok, servedBy } = await servedThrough(topology);
    expect(sent).toBe(RATE);
    expect(ok).toBe(sent);
    expect(Object.keys(servedBy).sort()).toEqual(backendNames);
    expect(Object.values(servedBy).reduce((a, b) => a + b, 0)).toBe(sent);
    for (const b of backendNames) expect(Math.abs(servedBy[b]! / sent - 1 / 3), `${b}: ${JSON.stringify(servedBy)}`).toBeLessThanOrEqual(0.05);
  }, 60_000);

  it('haproxy tcp balances the connection: one backend serves every call of the channel', async () => {
    const { sent, ok, servedBy } = await servedThrough(haproxyTarget.topology(haproxyTarget.options.parse({ ...grpcBackends, mode: 'tcp' })));
    expect(sent).toBe(RATE);
    expect(ok).toBe(sent);
    const [only, ...others] = Object.entries(servedBy);
    expect(others, JSON.stringify(servedBy)).toEqual([]);
    expect(backendNames).toContain(only![0]);
    expect(only![1]).toBe(sent);
  }, 60_000);
});
