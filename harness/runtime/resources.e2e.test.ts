import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { httpServiceSpec } from '../../targets/http-service/http-service.ts';
import { http } from '../drivers/http-workload.ts';
import { ResourceSampler } from '../metrics/resource-sampler.ts';
import { LOAD_GENERATOR } from '../result/result.ts';
import { driveHttp } from '../testing/drive.ts';
import { localServiceForFile } from '../testing/service-for-file.ts';
import { buildImages, localImages } from '../tooling/docker/build-images.ts';
import { engineUnavailableReason, startEngine, stopEngine, type EngineHandle } from '../tooling/docker/engine.ts';
import { leftovers } from './docker-leftovers.ts';
import { DockerRuntime } from './docker-runtime.ts';
import { chooseImages } from './images.ts';
import type { Runtime, StartedService } from './runtime.ts';

const WARMUP_MS = 1000;
const WINDOW_MS = 3000;
const RATE = 100;
const MB = 2 ** 20;

/** Drives `path` at 100 req/s (open model) through the run's measure step for 3 s after a 1 s warm-up, sampling the service. */
async function drive(svc: StartedService, path: string) {
  const sampler = new ResourceSampler(new Map([[svc.name, svc]]));
  const result = await driveHttp(svc.endpoint(), http({ model: 'open', rate: RATE, path }), { windowMs: WINDOW_MS, warmupMs: WARMUP_MS, sampler });
  return { ...result, resources: sampler.summary(result.totals.ops) };
}

/**
 * The same service driven with /work?ms=0 and then /work?ms=2: the CPU per request it adds is
 * the 2 ms each request burns, over the service's own cost per request measured the same way.
 */
async function expectTwoMillisecondsPerRequest(svc: StartedService, runtime: string): Promise<void> {
  const idle = await drive(svc, '/work?ms=0');
  const busy = await drive(svc, '/work?ms=2');
  const base = idle.resources.byService[svc.name]!;
  const work = busy.resources.byService[svc.name]!;
  const added = work.cpuUsPerOp! - base.cpuUsPerOp!;
  for (const [path, r, s] of [['ms=0', idle, base], ['ms=2', busy, work]] as const) {
    process.stdout.write(`${runtime} ${path}: ${r.totals.ops} requests, service ${s.cpuUsPerOp} µs/op (${s.cpuUs} µs), peak rss ${(s.peakRssBytes / MB).toFixed(1)} MB, load generator ${r.resources.byService[LOAD_GENERATOR]!.cpuUsPerOp} µs/op\n`);
  }
  process.stdout.write(`${runtime}: /work?ms=2 adds ${added.toFixed(1)} µs of CPU per request\n`);
  for (const r of [idle, busy]) {
    expect(r.totals.errors).toBe(0);
    expect(r.totals.ops).toBeGreaterThanOrEqual(RATE * (WINDOW_MS / 1000) * 0.95);
  }
  expect(Math.abs(added - 2000)).toBeLessThanOrEqual(400);
  expect(work.peakRssBytes).toBeGreaterThan(10 * MB);
  expect(busy.resources.cpuUsPerOp).toBe(work.cpuUsPerOp);
  // Every second has its sample, and the seconds add up to the window's total.
  expect(busy.series.map((row) => row.resources?.[svc.name] !== undefined)).toEqual(busy.series.map(() => true));
  expect(busy.series.reduce((a, row) => a + row.resources![svc.name]!.cpuUs, 0)).toBe(work.cpuUs);
  expect(busy.series[1]!.resources![LOAD_GENERATOR]!.cpuUs).toBeGreaterThan(0);
}

/** A service stopped by a kill gives no sample. */
async function expectNoSampleOnceKilled(runtime: Runtime): Promise<void> {
  const other = await runtime.start(httpServiceSpec('short-lived'));
  expect((await other.usage())!.rssBytes).toBeGreaterThan(10 * MB);
  await other.kill();
  expect(await other.usage()).toBeUndefined();
}

describe('resources of a local service (its process group, from /proc)', () => {
  const local = localServiceForFile('rs', () => httpServiceSpec());

  it('CPU per request shows the 2 ms each /work?ms=2 burns, over the service\'s own cost per request; memory is resident', async () => {
    await expectTwoMillisecondsPerRequest(local.service(), 'local');
  });

  it('a service that is not running gives no sample', async () => {
    await expectNoSampleOnceKilled(local.runtime());
  });
});

// These need a Docker engine: one that answers, or Debian's dockerd that they start (as root)
// and stop again. Without either they are skipped, and say why.
const unavailable = engineUnavailableReason();
if (unavailable) process.stdout.write(`docker resource tests skipped: ${unavailable}\n`);

describe.skipIf(unavailable !== undefined)('resources of a container (its cgroup, read from the host)', () => {
  const runId = `rsd${process.pid}`;
  let engine: EngineHandle = {};
  let runtime: DockerRuntime;
  let svc: StartedService;

  beforeAll(async () => {
    engine = await startEngine();
    buildImages();
    runtime = new DockerRuntime({ runId, design: 'resources', images: chooseImages({}, localImages) });
    svc = await runtime.start(httpServiceSpec());
  }, 900_000);
  afterAll(async () => {
    await runtime?.stopAll();
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
    await stopEngine(engine);
  }, 60_000);

  it('CPU per request shows the 2 ms each /work?ms=2 burns, over the container\'s own cost per request; memory is resident', async () => {
    await expectTwoMillisecondsPerRequest(svc, 'docker');
  });

  it('a container that is not running gives no sample', async () => {
    await expectNoSampleOnceKilled(runtime);
  });
});
