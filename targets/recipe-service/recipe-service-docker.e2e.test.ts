import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesignResult, RunResult } from '../../harness/result/result.ts';
import { leftovers } from '../../harness/runtime/docker-leftovers.ts';
import { runCli } from '../../harness/testing/cli.ts';
import { secondsBefore, servedIn } from '../../harness/testing/served.ts';
import { buildImages, localImageEnv } from '../../harness/tooling/docker/build-images.ts';
import { engineUnavailableReason, startEngine, stopEngine, type EngineHandle } from '../../harness/tooling/docker/engine.ts';

// Needs a Docker engine: one that answers, or Debian's dockerd that the test starts (as root)
// and stops again. Without either it is skipped, and says why.
const unavailable = engineUnavailableReason();
if (unavailable) process.stdout.write(`recipe-service docker test skipped: ${unavailable}\n`);

describe.skipIf(unavailable !== undefined)('http-vs-grpc and grpc-balancing in the docker runtime: the recipe service in the node image, its gRPC packages copied in, behind the balancers\' images', () => {
  const runId = `dkrpc${process.pid}`;
  let work: string;
  let engine: EngineHandle = {};
  let code: number | null;
  let stderr: string;
  let result: RunResult;
  let balancing: { code: number | null; stderr: string; result: RunResult };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-recipe-docker-test-'));
    engine = await startEngine();
    // Idempotent: the first run on a machine builds the images, later runs reuse them.
    buildImages();
    const out = join(work, 'out');
    ({ code, stderr } = await runCli(['run', 'http-vs-grpc', '--runtime', 'docker', '--time-scale', '0.25', '--out', out], { env: { ...localImageEnv(), FAULTLINE_RUN_ID: runId } }).done);
    result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
    // Connection- and call-level balancing in containers: HAProxy in TCP mode and nginx's grpc_pass (0.5: a 10 s window, backend 2 killed from 3 s for 2 s).
    const out2 = join(work, 'balancing');
    const run = await runCli(['run', 'grpc-balancing', '--runtime', 'docker', '--design', 'haproxy-tcp', '--design', 'nginx-grpc', '--time-scale', '0.5', '--out', out2], { env: { ...localImageEnv(), FAULTLINE_RUN_ID: runId } }).done;
    balancing = { code: run.code, stderr: run.stderr, result: JSON.parse(await readFile(join(out2, 'result.json'), 'utf8')) as RunResult };
  }, 900_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    await stopEngine(engine);
  }, 60_000);

  it('runs both designs as containers, every call answered over JSON/HTTP and over gRPC', () => {
    expect([0, 1], stderr).toContain(code);
    expect(result.environment.runtime).toBe('docker');
    expect(result.designs.map((d) => [d.name, d.status, d.error])).toEqual([['http', 'completed', undefined], ['grpc', 'completed', undefined]]);
    for (const d of result.designs) {
      expect(d.entry!.protocol, d.name).toBe(d.name);
      expect(d.totals.ops, d.name).toBe(d.load.sent);
      expect(d.totals.ok, d.name).toBeGreaterThan(0);
      expect(Object.keys(d.tallies.served_by ?? {}), d.name).toEqual(['service']);
      expect(d.distributions.last_item!.count, d.name).toBe(d.byOperation['list-20']!.ok);
    }
  });

  it('balances one gRPC channel per connection through HAProxy in TCP mode and per call through nginx, in containers', () => {
    const { code: exit, stderr: err, result: r } = balancing;
    // TCP mode misses the share lines by design: exit 1, never a broken run.
    expect(exit, err).toBe(1);
    expect(r.environment.runtime).toBe('docker');
    expect(r.designs.map((d) => [d.name, d.status, d.error, d.client?.protocol])).toEqual([['haproxy-tcp', 'completed', undefined, 'grpc'], ['nginx-grpc', 'completed', undefined, 'grpc']]);
    const [tcp, nginx] = r.designs as [DesignResult, DesignResult];
    for (const d of r.designs) expect(d.totals.ops, d.name).toBe(d.load.sent);
    const pinned = servedIn(tcp, secondsBefore(tcp, 'backend-2-killed'));
    expect(Object.keys(pinned), JSON.stringify(pinned)).toHaveLength(1);
    const spread = servedIn(nginx, secondsBefore(nginx, 'backend-2-killed'));
    const total = Object.values(spread).reduce((a, b) => a + b, 0);
    expect(total).toBeGreaterThan(0);
    for (const b of ['backend-1', 'backend-2', 'backend-3']) expect(Math.abs((spread[b] ?? 0) / total - 1 / 3), `${b}: ${JSON.stringify(spread)}`).toBeLessThanOrEqual(0.05);
    expect(nginx.sla.find((v) => v.line === 'during backend-2-killed: share(backend-2) < 5%')?.pass).toBe(true);
  });

  it('leaves no container or network', () => {
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  });
});
