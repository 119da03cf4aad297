import { execFile } from 'node:child_process';
import { connect } from 'node:net';
import { promisify } from 'node:util';
import { z } from 'zod';
import type { Endpoint } from '../../harness/runtime/runtime.ts';
import { Wait } from '../../harness/runtime/wait.ts';
import type { ServiceSpec, Topology } from '../../harness/runtime/service-spec.ts';
import type { TargetDefinition } from '../target.ts';

/** How a master keeps its data: not at all, or in an append-only file fsynced every second or at every write. */
export const redisPersistenceModes = ['none', 'aof-everysec', 'aof-always'] as const;
export type RedisPersistence = (typeof redisPersistenceModes)[number];

export interface RedisOptions {
  /** Service name inside the design; default `redis` (several masters: `<name>-1`, `<name>-2`, …). */
  name?: string;
  /**
   * Independent masters, 1–7; default 1. No replication and no cluster between them: each is a
   * Redis of its own and an entry endpoint of its own (what Redlock's N masters are), so a fault
   * on `client-><name>-2` reaches that master only.
   */
  masters?: number;
  /**
   * `none` (default): memory only, nothing survives a restart. `aof-everysec`: append-only file,
   * fsynced once a second. `aof-always`: append-only file, fsynced before each write is
   * answered. Either AOF mode keeps every answered write across a kill of the process; only a
   * crash of the machine separates them.
   */
  persistence?: RedisPersistence;
}

export const MAX_REDIS_MASTERS = 7;

const options = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and -').optional(),
  masters: z.number().int('masters is a whole number').min(1, 'at least 1 master').max(MAX_REDIS_MASTERS, `at most ${MAX_REDIS_MASTERS} masters`).optional(),
  persistence: z.enum(redisPersistenceModes).optional(),
}) satisfies z.ZodType<RedisOptions>;

/** A server loading a large append-only file answers `-LOADING` until it is done. */
const READY_TIMEOUT_MS = 30_000;
const PROBE_TIMEOUT_MS = 1_000;
/** Where a master keeps its append-only file in a container: the official image's data folder (the local image makes it too). */
export const CONTAINER_DATA_DIR = '/data';

/**
 * The server's command line: no config file, every setting given, so neither the machine's
 * /etc/redis nor an image's defaults reach it. Only checked values reach it.
 * `protectedMode: false` lets clients from other addresses in without a password (a container,
 * reached from the host and the Toxiproxy container); bound to loopback it is not needed.
 */
export function redisArgs(persistence: RedisPersistence, listen: { host: string; port: number }, dir: string, protectedMode = true): string[] {
  return [
    '--port', String(listen.port),
    '--bind', listen.host,
    '--dir', dir,
    '--daemonize', 'no',
    // No RDB snapshots: what survives a restart is the append-only file's business alone.
    '--save', '',
    '--appendonly', persistence === 'none' ? 'no' : 'yes',
    ...(persistence === 'none' ? [] : ['--appendfsync', persistence === 'aof-always' ? 'always' : 'everysec']),
    // The log to stdout: the runtime's log of the service, whose tail a failed start shows.
    '--logfile', '',
    // Redis writes its process title over its environment, where the run's label is looked up.
    '--set-proc-title', 'no',
    ...(protectedMode ? [] : ['--protected-mode', 'no']),
  ];
}

/**
 * A Redis PING over a fresh connection: ready when it answers `+PONG` (a server still loading
 * its data answers `-LOADING`). Given up after a second.
 */
export function redisPing(ep: Endpoint, signal: AbortSignal): Promise<boolean> {
  return new Promise((resolve) => {
    const giveUp = AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]);
    if (giveUp.aborted) {
      resolve(false);
      return;
    }
    const socket = connect({ host: ep.host, port: ep.port });
    let answer = '';
    const done = (ok: boolean) => {
      giveUp.removeEventListener('abort', abandon);
      socket.destroy();
      resolve(ok);
    };
    const abandon = () => done(false);
    giveUp.addEventListener('abort', abandon, { once: true });
    socket.setNoDelay(true);
    socket.once('connect', () => socket.write('PING\r\n'));
    socket.on('data', (chunk: Buffer) => {
      answer += chunk.toString('latin1');
      const end = answer.indexOf('\r\n');
      if (end >= 0) done(answer.slice(0, end) === '+PONG');
    });
    socket.once('error', () => done(false));
    socket.once('close', () => done(false));
  });
}

/** `Redis server v=7.0.15 sha=… malloc=…` → `7.0.15`. */
export const parseRedisVersion = (output: string) => /\bv=(\d+\.\d+\.\d+)/.exec(output)?.[1];

async function installedVersion(): Promise<string> {
  try {
    const { stdout } = await promisify(execFile)('redis-server', ['--version'], { encoding: 'utf8', timeout: 5_000 });
    return parseRedisVersion(stdout) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * One Redis master as a service spec, in both runtimes. Port `redis`. Locally its data lives in
 * the service dir, which a restart keeps; in a container in /data, which the container keeps.
 */
export function redisSpec(name = 'redis', o: RedisOptions = {}): ServiceSpec {
  const persistence = o.persistence ?? 'none';
  return {
    name,
    target: 'redis',
    ports: ['redis'],
    protocols: { redis: 'redis' },
    // A graceful stop: the append-only file is flushed and fsynced before the server exits.
    stopSignal: 'SIGTERM',
    // Debian's `redis-server` on PATH.
    local: (ctx) => ({ command: 'redis-server', args: redisArgs(persistence, { host: ctx.host, port: ctx.ports.redis! }, ctx.dir) }),
    // `redis-server` on PATH in the official image and in the local one (build-images.ts). The
    // runtime replaces the official entrypoint, which would add `--protected-mode no` itself.
    container: (ctx) => ({
      image: 'redis',
      command: 'redis-server',
      args: redisArgs(persistence, { host: ctx.host, port: ctx.ports.redis! }, CONTAINER_DATA_DIR, false),
    }),
    ready: Wait.forProbe('Redis PING', redisPing, { port: 'redis', timeoutMs: READY_TIMEOUT_MS }),
    program: { name: 'redis-server', version: installedVersion, versionArgs: ['--version'], parseVersion: parseRedisVersion },
  };
}

/** The masters' service names: `<name>` alone, or `<name>-1` … `<name>-N`. */
export function redisMasterNames(name = 'redis', masters = 1): string[] {
  return masters === 1 ? [name] : Array.from({ length: masters }, (_, i) => `${name}-${i + 1}`);
}

export const redisTarget: TargetDefinition<RedisOptions> = {
  name: 'redis',
  description: `Redis: 1 to ${MAX_REDIS_MASTERS} independent masters (no replication, no cluster; Redlock's layout), each an entry endpoint; optional AOF persistence`,
  options,
  topology: (o): Topology => {
    const names = redisMasterNames(o.name, o.masters);
    return {
      services: names.map((n) => redisSpec(n, o)),
      entries: [{ protocol: 'redis', endpoints: names.map((service) => ({ service, port: 'redis' })) }],
    };
  },
};

/** A design of independent Redis masters, e.g. `redis({ masters: 5, persistence: 'aof-always' })`. */
export function redis(options: RedisOptions = {}) {
  return { target: 'redis', options } as const;
}
