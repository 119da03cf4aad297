import { existsSync, readFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DockerRuntime } from '../../harness/runtime/docker-runtime.ts';
import { leftovers } from '../../harness/runtime/docker-leftovers.ts';
import { chooseImages } from '../../harness/runtime/images.ts';
import { LocalRuntime } from '../../harness/runtime/local-runtime.ts';
import type { Endpoint, StartedService } from '../../harness/runtime/runtime.ts';
import { processesOfRun } from '../../harness/testing/processes.ts';
import { buildImages, localImages } from '../../harness/tooling/docker/build-images.ts';
import { engineUnavailableReason, startEngine, stopEngine, type EngineHandle } from '../../harness/tooling/docker/engine.ts';
import { CONTAINER_DATA_DIR, redisSpec, redisTarget, type RedisOptions } from './redis.ts';

type Reply = string | number | null | Error | Reply[];

/** One RESP2 reply at `at` in `buf`: the reply and where the next begins, or undefined while incomplete. */
function parseReply(buf: Buffer, at: number): [Reply, number] | undefined {
  const eol = buf.indexOf('\r\n', at);
  if (eol < 0) return undefined;
  const line = buf.toString('utf8', at + 1, eol);
  const next = eol + 2;
  switch (String.fromCharCode(buf[at]!)) {
    case '+':
      return [line, next];
    case '-':
      return [new Error(line), next];
    case ':':
      return [Number(line), next];
    case '$': {
      const len = Number(line);
      if (len < 0) return [null, next];
      if (buf.length < next + len + 2) return undefined;
      return [buf.toString('utf8', next, next + len), next + len + 2];
    }
    case '*': {
      const n = Number(line);
      if (n < 0) return [null, next];
      const items: Reply[] = [];
      let pos = next;
      for (let i = 0; i < n; i++) {
        const item = parseReply(buf, pos);
        if (!item) return undefined;
        items.push(item[0]);
        pos = item[1];
      }
      return [items, pos];
    }
    default:
      throw new Error(`not a RESP reply: ${JSON.stringify(buf.toString('latin1', at, eol))}`);
  }
}

/** A minimal Redis client: one connection, commands answered in order. */
class Resp {
  private buf = Buffer.alloc(0);
  private readonly waiting: { resolve(r: Reply): void; reject(e: Error): void }[] = [];
  private readonly socket: Socket;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.on('data', (chunk: Buffer) => {
      this.buf = Buffer.concat([this.buf, chunk]);
      for (let parsed = parseReply(this.buf, 0); parsed; parsed = parseReply(this.buf, 0)) {
        this.buf = this.buf.subarray(parsed[1]);
        this.waiting.shift()?.resolve(parsed[0]);
      }
    });
    const fail = (err: Error) => {
      for (const w of this.waiting.splice(0)) w.reject(err);
    };
    socket.on('error', fail);
    socket.on('close', () => fail(new Error('connection closed')));
  }

  static open(ep: Endpoint): Promise<Resp> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: ep.host, port: ep.port });
      socket.setNoDelay(true);
      socket.once('connect', () => resolve(new Resp(socket)));
      socket.once('error', reject);
    });
  }

  command(...args: (string | number)[]): Promise<Reply> {
    const parts = args.map(String);
    this.socket.write(`*${parts.length}\r\n${parts.map((p) => `$${Buffer.byteLength(p)}\r\n${p}\r\n`).join('')}`);
    return new Promise((resolve, reject) => this.waiting.push({ resolve, reject }));
  }

  close(): void {
    this.socket.destroy();
  }
}

/** One command on a fresh connection. */
async function once(ep: Endpoint, ...args: (string | number)[]): Promise<Reply> {
  const c = await Resp.open(ep);
  try {
    return await c.command(...args);
  } finally {
    c.close();
  }
}

/** A field of `INFO server`, as the server reports itself. */
async function serverInfo(ep: Endpoint, field: string): Promise<string | undefined> {
  const info = await once(ep, 'INFO', 'server');
  return new RegExp(`^${field}:(.*)\\r?$`, 'm').exec(String(info))?.[1];
}

/** `INCR key` n times, one after the other; the replies as the server gave them. */
async function incrTimes(ep: Endpoint, key: string, n: number): Promise<Reply[]> {
  const c = await Resp.open(ep);
  try {
    const replies: Reply[] = [];
    for (let i = 0; i < n; i++) replies.push(await c.command('INCR', key));
    return replies;
  } finally {
    c.close();
  }
}

const cmdline = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0').filter(Boolean);

let runs = 0;
/** A run id of its own per test, so each finds its own processes. */
const nextRunId = () => `redis${process.pid}x${++runs}`;
const oneToHundred = Array.from({ length: 100 }, (_, i) => i + 1);

/** Starts `options`' masters in a fresh local runtime, runs `body`, stops them; then nothing of the run may be left. */
async function withMasters(options: RedisOptions, body: (masters: { name: string; svc: StartedService }[], runId: string) => Promise<void>): Promise<string[]> {
  const runId = nextRunId();
  const dirs: string[] = [];
  {
    await using runtime = new LocalRuntime({ runId });
    const started: { name: string; svc: StartedService }[] = [];
    for (const spec of redisTarget.topology(options).services) started.push({ name: spec.name, svc: await runtime.start(spec) });
    for (const { svc } of started) dirs.push(String((await once(svc.endpoint(), 'CONFIG', 'GET', 'dir') as Reply[])[1]));
    await body(started, runId);
  }
  expect(processesOfRun(runId)).toEqual([]);
  for (const d of dirs) expect(existsSync(d)).toBe(false);
  return dirs;
}

describe('redis in the local runtime', () => {
  it('runs one redis-server on loopback in its own dir, answers SET and GET, records its version, and leaves nothing behind', async () => {
    await withMasters({}, async ([master], runId) => {
      const { svc } = master!;
      const ep = svc.endpoint();
      expect(ep.host).toBe('127.0.0.1');
      expect(await once(ep, 'SET', 'greeting', 'hello')).toBe('OK');
      expect(await once(ep, 'GET', 'greeting')).toBe('hello');
      expect(await serverInfo(ep, 'tcp_port')).toBe(String(ep.port));
      expect(svc.program).toEqual({ name: 'redis-server', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as string });
      expect(svc.program.version).toBe(await serverInfo(ep, 'redis_version'));
      const pids = processesOfRun(runId);
      expect(pids).toEqual([Number(await serverInfo(ep, 'process_id'))]);
      expect(cmdline(pids[0]!)[0]).toBe('redis-server');
      // The service's own dir, never the machine's default port.
      expect(ep.port).not.toBe(6379);
      expect(await once(ep, 'CONFIG', 'GET', 'appendonly')).toEqual(['appendonly', 'no']);
    });
  });

  it('keeps every answered INCR across SIGKILL and a restart with aof-always', async () => {
    await withMasters({ persistence: 'aof-always' }, async ([master]) => {
      const { svc } = master!;
      const before = svc.endpoint();
      expect(await once(before, 'CONFIG', 'GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
      expect(await incrTimes(before, 'counter', 100)).toEqual(oneToHundred);
      const dir = String((await once(before, 'CONFIG', 'GET', 'dir') as Reply[])[1]);
      await svc.kill('SIGKILL');
      await svc.restart();
      expect(svc.endpoint()).toEqual(before);
      expect(await once(svc.endpoint(), 'CONFIG', 'GET', 'dir')).toEqual(['dir', dir]);
      expect(existsSync(join(dir, 'appendonlydir'))).toBe(true);
      expect(await once(svc.endpoint(), 'GET', 'counter')).toBe('100');
    });
  });

  it('keeps every answered INCR across a graceful restart with aof-everysec', async () => {
    await withMasters({ persistence: 'aof-everysec' }, async ([master]) => {
      const { svc } = master!;
      expect(await incrTimes(svc.endpoint(), 'counter', 100)).toEqual(oneToHundred);
      await svc.restart();
      expect(await once(svc.endpoint(), 'GET', 'counter')).toBe('100');
    });
  });

  it('loses everything across SIGKILL and a restart with persistence none', async () => {
    await withMasters({ persistence: 'none' }, async ([master]) => {
      const { svc } = master!;
      expect(await incrTimes(svc.endpoint(), 'counter', 100)).toEqual(oneToHundred);
      await svc.kill('SIGKILL');
      await svc.restart();
      expect(await once(svc.endpoint(), 'GET', 'counter')).toBeNull();
      expect(await once(svc.endpoint(), 'DBSIZE')).toBe(0);
      expect(await once(svc.endpoint(), 'INCR', 'counter')).toBe(1);
    });
  });

  it('starts 5 independent masters, each its own process on its own port', async () => {
    const dirs = await withMasters({ masters: 5 }, async (masters, runId) => {
      expect(masters.map((m) => m.name)).toEqual(['redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5']);
      const ports = masters.map((m) => m.svc.endpoint().port);
      expect(new Set(ports).size).toBe(5);
      for (const { svc } of masters) {
        expect(await once(svc.endpoint(), 'PING')).toBe('PONG');
        expect(await serverInfo(svc.endpoint(), 'tcp_port')).toBe(String(svc.endpoint().port));
      }
      const pids = await Promise.all(masters.map(async (m) => Number(await serverInfo(m.svc.endpoint(), 'process_id'))));
      expect(processesOfRun(runId).sort()).toEqual([...pids].sort());
      // No replication between them: a key written to one master is on that one only.
      expect(await once(masters[1]!.svc.endpoint(), 'SET', 'lock', 'mine')).toBe('OK');
      const seen = await Promise.all(masters.map((m) => once(m.svc.endpoint(), 'GET', 'lock')));
      expect(seen).toEqual([null, 'mine', null, null, null]);
      // Only the master it reaches is touched by a kill.
      await masters[2]!.svc.kill('SIGKILL');
      const alive = await Promise.all(masters.filter((_, i) => i !== 2).map((m) => once(m.svc.endpoint(), 'PING')));
      expect(alive).toEqual(['PONG', 'PONG', 'PONG', 'PONG']);
    });
    expect(new Set(dirs).size).toBe(5);
  });
});

// Needs a Docker engine: one that answers, or Debian's dockerd started (as root) and stopped again.
const unavailable = engineUnavailableReason();
if (unavailable) process.stdout.write(`redis docker tests skipped: ${unavailable}\n`);

describe.skipIf(unavailable !== undefined)('redis in the docker runtime (local image)', () => {
  const runId = `redisd${process.pid}`;
  let engine: EngineHandle = {};
  let runtime: DockerRuntime;

  beforeAll(async () => {
    engine = await startEngine();
    // Idempotent: the first run on a machine builds the images (minutes), later runs reuse them.
    buildImages();
    runtime = new DockerRuntime({ runId, design: 'redis-test', images: chooseImages({}, localImages) });
  }, 900_000);
  afterAll(async () => {
    await runtime?.stopAll();
    await stopEngine(engine);
  }, 60_000);

  it('answers from outside its container, keeps every answered INCR across SIGKILL and a restart, and leaves no container', async () => {
    const svc = await runtime.start(redisSpec('redis', { persistence: 'aof-always' }));
    expect(svc.program).toEqual({ name: 'redis-server', version: expect.stringMatching(/^\d+\.\d+\.\d+$/) as string });
    expect(svc.endpoint().host).not.toBe('127.0.0.1');
    expect(await incrTimes(svc.endpoint(), 'counter', 100)).toEqual(oneToHundred);
    await svc.kill('SIGKILL');
    await svc.restart();
    expect(await once(svc.endpoint(), 'CONFIG', 'GET', 'dir')).toEqual(['dir', CONTAINER_DATA_DIR]);
    expect(await once(svc.endpoint(), 'GET', 'counter')).toBe('100');
    await runtime.stopAll();
    expect(leftovers(runId)).toEqual({ containers: [], networks: [] });
  }, 120_000);
});
