import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildImages, localImageEnv, localImages } from '../tooling/docker/build-images.ts';
import { mavenTools } from '../tooling/setup/maven-tools.mjs';
import { engineUnavailableReason, startEngine, stopEngine, type EngineHandle } from '../tooling/docker/engine.ts';
import { leftovers } from './docker-leftovers.ts';
import { percentileOfSeconds, writeFaultScenario } from '../testing/fault-scenario.ts';
import type { DesignResult, RunResult, SecondStats } from '../result/result.ts';
import { runCli } from '../testing/cli.ts';
import { processesOfRun } from '../testing/processes.ts';

// These tests need a Docker engine: one that answers, or Debian's dockerd that they start (as
// root) and stop again. Without either they are skipped, and say why.
const unavailable = engineUnavailableReason();
if (unavailable) process.stdout.write(`docker runtime tests skipped: ${unavailable}\n`);

let work: string;
let engine: EngineHandle = {};
const env = { ...localImageEnv(), FAULTLINE_RUNTIME: 'docker' };

const scenario = (file: string, duration: string, faults: unknown[]) => writeFaultScenario(work, file, { name: 'docker-test', duration, faults });
const p50OfSeconds = (rows: readonly SecondStats[], seconds: number[]) => percentileOfSeconds(rows, seconds, 50);

async function resultOf(out: string): Promise<RunResult> {
  return JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
}

describe.skipIf(unavailable !== undefined)('the docker runtime, through the real CLI', () => {
  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-docker-test-'));
    engine = await startEngine();
    // Idempotent: the first run on a machine builds the images (a few minutes), later runs reuse them.
    buildImages();
  }, 900_000);
  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
    await stopEngine(engine);
  }, 60_000);

  describe('a latency fault and a freeze on one http-service', () => {
    const runId = `dkf${process.pid}`;
    let code: number | null;
    let result: RunResult;
    let design: DesignResult;

    beforeAll(async () => {
      const file = await scenario('faults.ts', '8s', [
        { name: 'lat50', at: '1s', for: '3s', link: 'client->service', latency: { latency: 50 } },
        { name: 'freeze', at: '6s', for: '1s', service: 'service', pause: true },
      ]);
      const out = join(work, 'faults');
      const run = runCli(['run', file, '--runtime', 'docker', '--out', out], { env: { ...env, FAULTLINE_RUN_ID: runId } });
      ({ code } = await run.done);
      result = await resultOf(out);
      design = result.designs[0]!;
    }, 180_000);

    it('runs in containers and records the runtime, its reason and the images', () => {
      expect(code).toBe(0);
      expect(result.environment).toMatchObject({ runtime: 'docker', runtimeReason: 'asked for with --runtime docker' });
      expect(Object.keys(result.environment.images ?? {})).toEqual(expect.arrayContaining([localImages.node, localImages.toxiproxy]));
      // Asked inside the container: the local node image carries this process's own binary.
      expect(design.services.map((s) => [s.name, s.version])).toEqual([['service', process.version]]);
    });

    it('adds 50 ms ± 3 ms to p50 while the latency toxic is in place, as in the local runtime', () => {
      const baseline = p50OfSeconds(design.series, [0, 5]);
      const inside = p50OfSeconds(design.series, [2, 3]);
      expect(Math.abs(inside - baseline - 50_000)).toBeLessThanOrEqual(3000);
    });

    it('freezes the container with docker pause: requests wait until it resumes', () => {
      expect(Math.max(...design.series.slice(6, 8).map((r) => r.latencyUs.p99))).toBeGreaterThanOrEqual(500_000);
    });

    it('keeps the container logs and leaves no container or network', async () => {
      expect(await readFile(join(work, 'faults', 'logs', 'single', 'toxiproxy.log'), 'utf8')).toMatch(/Starting Toxiproxy HTTP server/);
      expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
    });
  });

  it('runs delivery-guarantees (at-least-once) on a RabbitMQ container: a broker restart and a consumer crash, no message lost', async () => {
    const runId = `dkm${process.pid}`;
    const out = join(work, 'messaging');
    const { code, stdout } = await runCli(['run', 'delivery-guarantees', '--design', 'at-least-once', '--time-scale', '0.75', '--runtime', 'docker', '--out', out], { env: { ...env, FAULTLINE_RUN_ID: runId } }).done;
    expect(stdout).toMatch(/runtime docker/);
    expect(code === 0 || code === 1).toBe(true);
    const d = (await resultOf(out)).designs[0]!;
    expect(d.status).toBe('completed');
    expect(d.services.find((s) => s.name === 'broker')?.version).toMatch(/^3\.\d+\.\d+$/);
    expect(d.faults.map((f) => [f.name, f.error])).toEqual([['broker-restart', undefined], ['consumer-crash', undefined]]);
    // Confirms, a durable queue and persistent messages: nothing the broker confirmed is lost
    // across the container's restart, and consumers carried on after it.
    expect(d.checks.lost?.value).toBe(0);
    expect(d.counters.consumed).toBeGreaterThan(0);
    expect(d.sla.find((v) => v.line === 'lost == 0')?.pass).toBe(true);
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  }, 300_000);

  it('runs delivery-guarantees (kafka-at-least-once) on a Kafka container: the host reaches the broker at what it advertises, across its restart; no message lost', async () => {
    const runId = `dkb${process.pid}`;
    const out = join(work, 'kafka');
    const { code, stdout } = await runCli(['run', 'delivery-guarantees', '--design', 'kafka-at-least-once', '--time-scale', '0.75', '--runtime', 'docker', '--out', out], { env: { ...env, FAULTLINE_RUN_ID: runId } }).done;
    expect(stdout).toMatch(/runtime docker/);
    expect(code === 0 || code === 1).toBe(true);
    const result = await resultOf(out);
    const d = result.designs[0]!;
    expect(d.status).toBe('completed');
    expect(Object.keys(result.environment.images ?? {})).toContain(localImages.kafka);
    // Asked inside the container: the local image carries the tool cache's jars.
    expect(d.services.find((s) => s.name === 'broker')?.version).toBe(mavenTools.find((t) => t.name === 'kafka')!.version);
    expect(d.faults.map((f) => [f.name, f.error])).toEqual([['broker-restart', undefined], ['consumer-crash', undefined]]);
    // Every producer and consumer on the host goes where the broker's metadata sends it, before
    // and after the container's restart: acks=all and committed offsets lose nothing.
    expect(d.checks.lost?.value).toBe(0);
    expect(d.counters.consumed).toBeGreaterThan(0);
    expect(d.sla.find((v) => v.line === 'lost == 0')?.pass).toBe(true);
    // Two starts of the same container, and only the first formatted the storage: the restart found its data.
    const log = await readFile(join(out, 'logs', 'kafka-at-least-once', 'broker.log'), 'utf8');
    expect([log.match(/Performing controller activation/g)?.length, log.match(/The metadata log appears to be empty/g)?.length]).toEqual([2, 1]);
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  }, 300_000);

  it('runs id-generators (snowflake-unguarded, segment) as node and redis containers: the clock fault moves a container\'s clock', async () => {
    const runId = `did${process.pid}`;
    const out = join(work, 'ids');
    const { code, stdout } = await runCli(['run', 'id-generators', '--design', 'snowflake-unguarded', '--design', 'segment', '--time-scale', '0.4', '--runtime', 'docker', '--out', out], { env: { ...env, FAULTLINE_RUN_ID: runId } }).done;
    expect(stdout).toMatch(/runtime docker/);
    expect(code).toBe(1);
    const result = await resultOf(out);
    expect(result.designs.map((d) => [d.name, d.status])).toEqual([['snowflake-unguarded', 'completed'], ['segment', 'completed']]);
    expect(Object.keys(result.environment.images ?? {})).toEqual(expect.arrayContaining([localImages.node, localImages.redis]));
    const [unguarded, segment] = result.designs;
    for (const d of result.designs) expect(d.faults.map((f) => [f.name, f.error]), d.name).toEqual([['clock-back', undefined]]);
    // Inside id-1's container the clock went back 2 s: the unguarded generator replayed its own
    // IDs (one step down, on id-1); the segment allocator's IDs carry no time.
    expect(unguarded!.checks.duplicate_ids?.value).toBeGreaterThan(0);
    expect(unguarded!.checks.non_monotonic?.value).toBe(1);
    expect(segment!.checks.duplicate_ids?.value).toBe(0);
    expect(segment!.services.map((s) => s.name)).toEqual(['redis', 'id-1', 'id-2', 'id-3']);
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  }, 300_000);

  it('runs redis-locks (token, fenced) on a Redis container, the lock clients host processes: the frozen holder lets a second one in through token, never through fenced', async () => {
    const runId = `dkr${process.pid}`;
    const out = join(work, 'locks');
    const { code, stdout } = await runCli(['run', 'redis-locks', '--design', 'token', '--design', 'fenced', '--time-scale', '0.5', '--runtime', 'docker', '--out', out], { env: { ...env, FAULTLINE_RUN_ID: runId } }).done;
    expect(stdout).toMatch(/runtime docker/);
    expect(code).toBe(1);
    const result = await resultOf(out);
    expect(result.designs.map((d) => [d.name, d.status, d.error])).toEqual([['token', 'completed', undefined], ['fenced', 'completed', undefined]]);
    expect(Object.keys(result.environment.images ?? {})).toContain(localImages.redis);
    const [token, fenced] = result.designs;
    for (const d of result.designs) {
      // Asked inside the container: Debian's redis-server in the local image.
      expect(d.services.map((s) => s.name), d.name).toEqual(['redis']);
      expect(d.services[0]!.version, d.name).toMatch(/^7\.\d+\.\d+$/);
      expect(d.faults.map((f) => [f.name, f.client, f.error]), d.name).toEqual([['gc-pause', 'client-2', undefined]]);
      expect(d.counters.acquisitions, d.name).toBeGreaterThan(0);
    }
    // client-2, a host process, frozen past its lease: its write after the thaw is accepted
    // under token and refused under fenced, as with a local Redis.
    expect(token!.checks.overlaps!.value).toBeGreaterThanOrEqual(1);
    expect(token!.checks.stale_writes!.value).toBeGreaterThanOrEqual(1);
    expect([fenced!.checks.overlaps!.value, fenced!.checks.stale_writes!.value]).toEqual([0, 0]);
    expect(fenced!.checks.fenced_rejections!.value).toBeGreaterThanOrEqual(1);
    expect(fenced!.passed).toBe(true);
    expect(processesOfRun(runId)).toEqual([]);
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  }, 300_000);

  it('runs lb-algorithms (haproxy-leastconn) with kill and restart through the engine; least connections avoids the slow backend', async () => {
    const runId = `dkl${process.pid}`;
    const out = join(work, 'lb');
    const { code, stdout } = await runCli(['run', 'lb-algorithms', '--design', 'haproxy-leastconn', '--time-scale', '0.3', '--runtime', 'docker', '--out', out], { env: { ...env, FAULTLINE_RUN_ID: runId } }).done;
    expect(stdout).toMatch(/runtime docker/);
    expect(code === 0 || code === 1).toBe(true);
    const d = (await resultOf(out)).designs[0]!;
    expect(d.status).toBe('completed');
    expect(d.services.find((s) => s.name === 'lb')?.version).toMatch(/^2\.\d+/);
    expect(d.faults.map((f) => [f.name, f.error])).toEqual([['slow-backend-1', undefined], ['backend-2-killed', undefined], ['backend-2-back', undefined]]);
    // Round robin would give the slow backend a third. The window takes in the second after the
    // fault, when backend 1 gets its full share back: 0.196 to 0.204 seen over runs here.
    expect(d.sla.find((v) => v.line === 'during slow-backend-1: share(backend-1) < 25%')?.measured).toBeLessThan(0.25);
    // Killed and started again as the same container: its kept log holds both starts.
    const log = await readFile(join(out, 'logs', 'haproxy-leastconn', 'backend-2.log'), 'utf8');
    expect(log.match(/listening on 0\.0\.0\.0:8080/g)).toHaveLength(2);
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  }, 240_000);

  it('removes every container and the network on SIGINT', async () => {
    const runId = `dki${process.pid}`;
    const file = await scenario('long.ts', '60s', [{ name: 'lat', at: '1s', link: 'client->service', latency: { latency: 5 } }]);
    const run = runCli(['run', file, '--runtime', 'docker', '--out', join(work, 'long')], { env: { ...env, FAULTLINE_RUN_ID: runId } });
    await run.waitFor(/fault: lat/, 60_000);
    const during = leftovers(runId);
    expect([during.containers.length, during.networks.length]).toEqual([2, 1]);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  }, 120_000);

  it('leaves labelled containers when the CLI is killed outright, and faultline doctor --clean removes them', async () => {
    const runId = `dkk${process.pid}`;
    const file = await scenario('crash.ts', '60s', [{ name: 'lat', at: '1s', link: 'client->service', latency: { latency: 5 } }]);
    const run = runCli(['run', file, '--runtime', 'docker', '--out', join(work, 'crash')], { env: { ...env, FAULTLINE_RUN_ID: runId } });
    await run.waitFor(/fault: lat/, 60_000);
    run.child.kill('SIGKILL');
    await run.done;
    expect(leftovers(runId).containers).toHaveLength(2);
    const { stdout } = await runCli(['doctor', '--clean']).done;
    expect(stdout).toMatch(/clean: removed [1-9]\d* container\(s\) and [1-9]\d* network\(s\)/);
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
    // A killed CLI cannot remove its services' log scratch dirs either.
    for (const dir of await readdir(tmpdir())) if (dir.startsWith(`faultline-${runId}-`)) await rm(join(tmpdir(), dir), { recursive: true, force: true });
  }, 120_000);

  it('removes what it started when a service fails to start (exit 3), naming the image', async () => {
    const runId = `dks${process.pid}`;
    const file = await scenario('no-image.ts', '5s', [{ name: 'lat', at: '1s', link: 'client->service', latency: { latency: 5 } }]);
    const { code, stderr } = await runCli(['run', file, '--runtime', 'docker', '--image', 'node=faultline-local/missing:0', '--out', join(work, 'no-image')], { env: { ...env, FAULTLINE_RUN_ID: runId } }).done;
    expect(code).toBe(3);
    expect(stderr).toMatch(/faultline-local\/missing:0/);
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
    // An image without the program: the container is created, its start fails.
    const noNode = await runCli(['run', file, '--runtime', 'docker', '--image', `node=${localImages.haproxy}`, '--out', join(work, 'no-node')], { env: { ...env, FAULTLINE_RUN_ID: `${runId}n` } }).done;
    expect(noNode.code).toBe(3);
    expect(noNode.stderr).toMatch(/did not start/);
    expect(leftovers(`${runId}n`)).toEqual({ containers: [], networks: [] });
  }, 120_000);
});
