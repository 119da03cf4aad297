import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../../harness/result/result.ts';
import { leftovers } from '../../harness/runtime/docker-leftovers.ts';
import { runCli } from '../../harness/testing/cli.ts';
import { buildImages, localImageEnv } from '../../harness/tooling/docker/build-images.ts';
import { engineUnavailableReason, startEngine, stopEngine, type EngineHandle } from '../../harness/tooling/docker/engine.ts';

// Needs a Docker engine: one that answers, or Debian's dockerd that the test starts (as root)
// and stops again. Without either it is skipped, and says why.
const unavailable = engineUnavailableReason();
if (unavailable) process.stdout.write(`recipe-service docker test skipped: ${unavailable}\n`);

describe.skipIf(unavailable !== undefined)('http-vs-grpc in the docker runtime: the recipe service in the node image, its gRPC packages copied in', () => {
  const runId = `dkrpc${process.pid}`;
  let work: string;
  let engine: EngineHandle = {};
  let code: number | null;
  let stderr: string;
  let result: RunResult;

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-recipe-docker-test-'));
    engine = await startEngine();
    // Idempotent: the first run on a machine builds the images, later runs reuse them.
    buildImages();
    const out = join(work, 'out');
    ({ code, stderr } = await runCli(['run', 'http-vs-grpc', '--runtime', 'docker', '--time-scale', '0.25', '--out', out], { env: { ...localImageEnv(), FAULTLINE_RUN_ID: runId } }).done);
    result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
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

  it('leaves no container or network', () => {
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  });
});
