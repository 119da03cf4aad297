import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { DockerRuntime } from '../runtime/docker-runtime.ts';
import { leftovers } from '../runtime/docker-leftovers.ts';
import { chooseImages } from '../runtime/images.ts';
import { LocalRuntime } from '../runtime/local-runtime.ts';
import type { StartedService } from '../runtime/runtime.ts';
import type { ServiceSpec } from '../runtime/service-spec.ts';
import { Wait } from '../runtime/wait.ts';
import { processesOfRun } from '../testing/processes.ts';
import { buildImages, localImageEnv } from '../tooling/docker/build-images.ts';
import { engineUnavailableReason, startEngine, stopEngine, type EngineHandle } from '../tooling/docker/engine.ts';
import { applyFault } from './apply-fault.ts';
import type { Fault } from './fault-spec.ts';

const serverFile = fileURLToPath(new URL('../testing/clock-server.ts', import.meta.url));

/** A Node service that answers `/now` with its own `Date.now()`, in either runtime. */
function clockSpec(name: string, fakeClock: boolean): ServiceSpec {
  return {
    name,
    target: 'clock-server',
    ports: ['http'],
    local: (ctx) => ({ command: process.execPath, args: [serverFile], env: { HOST: ctx.host, PORT: String(ctx.ports.http) } }),
    container: (ctx) => ({
      image: 'node',
      command: 'node',
      args: [`${ctx.dir}/clock-server.ts`],
      env: { HOST: ctx.host, PORT: String(ctx.ports.http) },
      files: { 'package.json': '{ "type": "module" }\n' },
      copy: { [`${ctx.dir}/clock-server.ts`]: serverFile },
    }),
    ready: Wait.forHttp('/health'),
    program: { name: 'node', version: async () => process.version },
    ...(fakeClock ? { fakeClock: true as const } : {}),
  };
}

/**
 * How far the service's wall clock is from this process's (ms): its `Date.now()` against the
 * middle of the request. The request's own time is far below the tolerances used here.
 */
async function skew(svc: StartedService): Promise<number> {
  const before = Date.now();
  const res = await fetch(`${svc.url()}/now`);
  const theirs = Number(await res.text());
  const after = Date.now();
  return theirs - (before + after) / 2;
}

const clockFault = (clock: string, extra: Partial<Fault> = {}) => ({ name: 'clock-back', at: '0s', for: '1s', service: 'clock', clock, ...extra }) as Fault;
const targetsOf = (svc: StartedService) => ({ links: new Map(), services: new Map([[svc.name, svc]]) });
const tempDirsOf = (runId: string) => readdirSync(tmpdir()).filter((d) => d.startsWith(`faultline-${runId}-`));

describe('a clock fault moves a local service\'s wall clock through libfaketime', () => {
  const runId = `clk${process.pid}`;
  let runtime: LocalRuntime;
  let svc: StartedService;

  beforeAll(async () => {
    runtime = new LocalRuntime({ runId });
    svc = await runtime.start(clockSpec('clock', true));
  });
  afterAll(async () => {
    await runtime.stopAll();
    expect(processesOfRun(runId)).toEqual([]);
    expect(tempDirsOf(runId)).toEqual([]);
  });

  it('starts on true time', async () => {
    expect(Math.abs(await skew(svc))).toBeLessThanOrEqual(300);
  });

  it('sets the clock 5 s back, and the first read after the offset is set already sees it', async () => {
    await svc.setClockOffset!(-5000);
    const s = await skew(svc);
    expect(s).toBeGreaterThanOrEqual(-5500);
    expect(s).toBeLessThanOrEqual(-4500);
  });

  it('sets it right again, and the process survived its clock going back', async () => {
    await svc.setClockOffset!(0);
    expect(Math.abs(await skew(svc))).toBeLessThanOrEqual(300);
  });

  it('keeps the offset across a restart, as a machine keeps its wrong clock', async () => {
    await svc.setClockOffset!(-5000);
    await svc.restart();
    const s = await skew(svc);
    expect(s).toBeGreaterThanOrEqual(-5500);
    expect(s).toBeLessThanOrEqual(-4500);
    await svc.setClockOffset!(0);
    expect(Math.abs(await skew(svc))).toBeLessThanOrEqual(300);
  });

  it('applies a fractional clock fault and its remover sets the clock right', async () => {
    const remove = await applyFault(clockFault('+1500ms'), targetsOf(svc));
    const s = await skew(svc);
    expect(s).toBeGreaterThanOrEqual(1200);
    expect(s).toBeLessThanOrEqual(1800);
    await remove!();
    expect(Math.abs(await skew(svc))).toBeLessThanOrEqual(300);
    // Without `for` the clock stays off: nothing to undo.
    expect(await applyFault(clockFault('-2s', { for: undefined }), targetsOf(svc))).toBeUndefined();
    expect(Math.abs((await skew(svc)) + 2000)).toBeLessThanOrEqual(300);
    await svc.setClockOffset!(0);
  });

  it('refuses a clock fault on a service without a fake clock', async () => {
    const plain = await runtime.start(clockSpec('plain', false));
    expect(plain.setClockOffset).toBeUndefined();
    const err = await applyFault(clockFault('-2s', { service: 'plain' }), targetsOf(plain)).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(FaultlineError);
    expect((err as FaultlineError).message).toBe("service 'plain' (clock-server) has no fake clock, so a clock fault cannot move it");
    expect(Math.abs(await skew(plain))).toBeLessThanOrEqual(300);
  });
});

// Like the docker runtime's own tests: an engine that answers or Debian's dockerd started here,
// and the locally built images.
const unavailable = engineUnavailableReason();
if (unavailable) process.stdout.write(`docker clock fault test skipped: ${unavailable}\n`);

describe.skipIf(unavailable !== undefined)('a clock fault in the docker runtime: the host\'s libfaketime in the node image', () => {
  const runId = `clkd${process.pid}`;
  let engine: EngineHandle = {};
  let runtime: DockerRuntime | undefined;
  let svc: StartedService;

  beforeAll(async () => {
    engine = await startEngine();
    // Idempotent: the first run on a machine builds the images (a few minutes), later runs reuse them.
    buildImages();
    runtime = new DockerRuntime({ runId, design: 'clock', images: chooseImages({}, {}, { ...process.env, ...localImageEnv() }) });
    svc = await runtime.start(clockSpec('clock', true));
  }, 900_000);
  afterAll(async () => {
    await runtime?.stopAll();
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
    expect(tempDirsOf(runId)).toEqual([]);
    await stopEngine(engine);
  }, 60_000);

  it('moves the container\'s clock 5 s back for the fault, and back to true time when it ends', async () => {
    expect(Math.abs(await skew(svc))).toBeLessThanOrEqual(300);
    const remove = await applyFault(clockFault('-5s'), targetsOf(svc));
    const s = await skew(svc);
    expect(s).toBeGreaterThanOrEqual(-5500);
    expect(s).toBeLessThanOrEqual(-4500);
    await remove!();
    expect(Math.abs(await skew(svc))).toBeLessThanOrEqual(300);
  });
});
