import { existsSync, readdirSync, readFileSync, readlinkSync } from 'node:fs';
import { connect } from 'node:net';
import amqp from 'amqplib';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../harness/runtime/docker-runtime.ts';
import { leftovers } from '../../harness/runtime/docker-leftovers.ts';
import { chooseImages } from '../../harness/runtime/images.ts';
import { LocalRuntime } from '../../harness/runtime/local-runtime.ts';
import type { Endpoint, StartedService } from '../../harness/runtime/runtime.ts';
import { processesOfRun } from '../../harness/testing/processes.ts';
import { buildImages, localImages } from '../../harness/tooling/docker/build-images.ts';
import { engineUnavailableReason, startEngine, stopEngine, type EngineHandle } from '../../harness/tooling/docker/engine.ts';
import { amqpUrl, rabbitmqNodeName, rabbitmqSpec, rabbitmqTarget } from './rabbitmq.ts';

function tcpOpen(ep: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect(ep);
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}

function procText(pid: number, file: 'cmdline' | 'environ'): string {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Live (not zombie) processes whose command line or environment mentions `needle`. */
function processesMentioning(needle: string): number[] {
  return readdirSync('/proc')
    .filter((e) => /^\d+$/.test(e))
    .map(Number)
    .filter((pid) => {
      try {
        if (/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'))) return false;
      } catch {
        return false;
      }
      return procText(pid, 'cmdline').includes(needle) || procText(pid, 'environ').includes(needle);
    });
}

const statField = (pid: number, i: number) => Number(readFileSync(`/proc/${pid}/stat`, 'latin1').split(') ')[1]!.split(' ')[i]);
const ppid = (pid: number) => statField(pid, 1);
const pgid = (pid: number) => statField(pid, 2);

function descendsFrom(pid: number, ancestor: number): boolean {
  for (let p = ppid(pid); p > 1; p = ppid(p)) if (p === ancestor) return true;
  return false;
}

/** Publishes one message to a fresh queue and reads it back. */
async function roundTrip(ep: Endpoint): Promise<string | undefined> {
  const conn = await amqp.connect(amqpUrl(ep), { noDelay: true });
  try {
    const ch = await conn.createConfirmChannel();
    const { queue } = await ch.assertQueue('', { exclusive: true });
    ch.sendToQueue(queue, Buffer.from('hello'));
    await ch.waitForConfirms();
    const msg = await ch.get(queue, { noAck: true });
    return msg === false ? undefined : msg.content.toString();
  } finally {
    await conn.close();
  }
}

/** Declares a durable queue and publishes one persistent message to it, confirmed. */
async function publishDurable(ep: Endpoint, queue: string, body: string): Promise<void> {
  const conn = await amqp.connect(amqpUrl(ep), { noDelay: true });
  try {
    const ch = await conn.createConfirmChannel();
    await ch.assertQueue(queue, { durable: true });
    ch.sendToQueue(queue, Buffer.from(body), { persistent: true });
    await ch.waitForConfirms();
  } finally {
    await conn.close();
  }
}

async function getOne(ep: Endpoint, queue: string): Promise<string | undefined> {
  const conn = await amqp.connect(amqpUrl(ep), { noDelay: true });
  try {
    const ch = await conn.createChannel();
    await ch.checkQueue(queue);
    const msg = await ch.get(queue, { noAck: true });
    return msg === false ? undefined : msg.content.toString();
  } finally {
    await conn.close();
  }
}

describe('rabbitmq in the local runtime', () => {
  const runId = `rmq${process.pid}`;
  let runtime: LocalRuntime;
  let svc: StartedService;

  beforeAll(async () => {
    runtime = new LocalRuntime({ runId });
    svc = await runtime.start(rabbitmqTarget.topology({ memoryHighWatermark: 0.3 }).services[0]!);
  }, 120_000);
  afterAll(async () => {
    await runtime.stopAll();
    expect(processesOfRun(runId)).toEqual([]);
  }, 60_000);

  it('runs the broker and its own epmd in one process group, on loopback, and records the version', () => {
    const pids = processesOfRun(runId);
    const leader = pids.find((p) => procText(p, 'cmdline').includes('rabbitmq-server'))!;
    const group = pids.filter((p) => pgid(p) === leader);
    expect(group).toContain(leader);
    const cmdlines = group.map((p) => procText(p, 'cmdline'));
    expect(cmdlines.filter((c) => c.includes('beam.smp'))).toHaveLength(1);
    expect(cmdlines.filter((c) => /(^|\/)epmd /.test(c))).toEqual([`epmd -port ${svc.endpoint('epmd').port} -address 127.0.0.1 `]);
    // Outside the group only erts' own helpers (erl_child_setup and the ports it spawns, each
    // in a session of its own by design): they live on pipes from beam.smp and exit with it.
    const beam = group.find((p) => procText(p, 'cmdline').includes('beam.smp'))!;
    for (const p of pids.filter((q) => !group.includes(q))) expect(descendsFrom(p, beam)).toBe(true);
    expect(svc.endpoint().host).toBe('127.0.0.1');
    expect(svc.program).toEqual({ name: 'rabbitmq-server', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as string });
  });

  it('publishes and consumes a message through amqplib', async () => {
    expect(await roundTrip(svc.endpoint())).toBe('hello');
  });

  it('keeps a durable queue and its persistent message across a restart', async () => {
    const before = svc.endpoint();
    await publishDurable(before, 'survivor', 'still here');
    await svc.restart();
    expect(svc.endpoint()).toEqual(before);
    expect(await getOne(svc.endpoint(), 'survivor')).toBe('still here');
  }, 120_000);

  it('keeps a confirmed persistent message across SIGKILL and a start in the same dir (a kill fault with `for`)', async () => {
    await publishDurable(svc.endpoint(), 'survivor', 'killed and back');
    await svc.kill('SIGKILL');
    await svc.restart();
    expect(await getOne(svc.endpoint(), 'survivor')).toBe('killed and back');
  }, 120_000);

  it('leaves no process, no epmd and no dir after stop', async () => {
    const beam = processesOfRun(runId).find((p) => procText(p, 'cmdline').includes('beam.smp'))!;
    const dir = readlinkSync(`/proc/${beam}/cwd`);
    expect(procText(beam, 'cmdline')).toContain(`-home ${dir}`);
    expect(existsSync(dir)).toBe(true);
    const epmd = svc.endpoint('epmd');
    expect(await tcpOpen(epmd)).toBe(true);

    await svc.stop();
    expect(processesOfRun(runId)).toEqual([]);
    expect(processesMentioning(dir)).toEqual([]);
    expect(processesMentioning(rabbitmqNodeName(dir))).toEqual([]);
    expect(await tcpOpen(epmd)).toBe(false);
    expect(await tcpOpen(svc.endpoint())).toBe(false);
    expect(existsSync(dir)).toBe(false);
  }, 60_000);
});

// Needs a Docker engine: one that answers, or Debian's dockerd started (as root) and stopped again.
const unavailable = engineUnavailableReason();
if (unavailable) process.stdout.write(`rabbitmq docker tests skipped: ${unavailable}\n`);

describe.skipIf(unavailable !== undefined)('rabbitmq in the docker runtime (local image)', () => {
  const runId = `rmqd${process.pid}`;
  let engine: EngineHandle = {};
  let runtime: DockerRuntime;

  beforeAll(async () => {
    engine = await startEngine();
    // Idempotent: the first run on a machine builds the images (minutes), later runs reuse them.
    buildImages();
    runtime = new DockerRuntime({ runId, design: 'rabbitmq-test', images: chooseImages({}, localImages) });
  }, 900_000);
  afterAll(async () => {
    await runtime?.stopAll();
    await stopEngine(engine);
  }, 60_000);

  it('starts, publishes and consumes, keeps a durable message across a restart, and leaves no container', async () => {
    const svc = await runtime.start(rabbitmqSpec());
    expect(svc.program).toEqual({ name: 'rabbitmq-server', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as string });
    expect(await roundTrip(svc.endpoint())).toBe('hello');
    await publishDurable(svc.endpoint(), 'survivor', 'still here');
    await svc.restart();
    expect(await getOne(svc.endpoint(), 'survivor')).toBe('still here');
    await runtime.stopAll();
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  }, 180_000);
});
