import { fork, type ChildProcess } from 'node:child_process';
import { createRequire } from 'node:module';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { parseDuration, type Duration } from '../../base/duration.ts';
import type { Endpoint } from '../../base/endpoint.ts';
import { durationSchema } from '../../base/schema-helpers.ts';
import { ownFile } from '../../base/own-file.ts';
import { locksChecker } from '../../checkers/locks.ts';
import type { MetricSink } from '../../metrics/sink.ts';
import { signalGroup } from '../../runtime/process-group.ts';
import { RUN_ID_ENV, SERVICE_ENV } from '../../runtime/run-registry.ts';
import { watchGroup } from '../../runtime/watchdog.ts';
import type { Adapter, DriverContext, DriverDefinition, LoadDriver, RunWindow } from '../driver.ts';
import { LockResource } from './lock-resource.ts';
import { lockTimelineChecker } from './lock-timeline.ts';
import { fenceKey, holderOf, lockKey, lockStrategies, type ClientConfig, type FaultPoint, type FromClient, type LockStrategy, type ToClient } from './lock-protocol.ts';
import { lockClientNames, lockSettings, lockWorkloadSchema, resourceNames, type LockSettings, type LockWorkload } from './lock-workload.ts';

/** The operation every cycle records: from the first attempt to the lock held. */
export const ACQUIRE = 'acquire';
/** Distribution: how long each lock was held, from acquired to the release sent (µs). */
export const HOLD = 'hold';
export const ACQUISITIONS = 'acquisitions';
export const FAILED_ATTEMPTS = 'failed_attempts';
export const LOST_LEASES = 'lost_leases';

/** A client not started and connected within this fails the preparation (ms). */
const READY_TIMEOUT_MS = 20_000;
/**
 * How long a fault aimed at a point in the client's code (`in-hold`, the SETNX gap) waits for
 * the client to get there (ms); past it the fault lands wherever the client is. A client under
 * contention gets the lock within a few holds, far inside this.
 */
const ARM_WAIT_MS = 3_000;
/** How long a client that closes its channel has to exit before it is killed (ms). */
const EXIT_GRACE_MS = 1_000;
const STDERR_TAIL_BYTES = 4_096;

const clientScript = ownFile('./lock-client.ts', import.meta.url);
// Loaded when a driver is made: validating or listing scenarios never loads the Redis client.
const require = createRequire(import.meta.url);

/** A design's client options for the lock workload over Redis (`withClient(redis(), { strategy: 'fenced' })`). */
export interface RedisLockClientOptions {
  /** How the clients lock (see `LockStrategy`). Default `token`. */
  strategy: LockStrategy;
  /**
   * `setnx-expire` only: a `crash` fault on a client lands right after one of its SETNX calls
   * took the lock and before its PEXPIRE, so the lock it leaves never expires. The driver arms
   * the client, which at its next successful SETNX tells the driver where it is and waits; the
   * driver kills it while it waits. A delay between the two commands would only make the crash
   * likely to land in the gap; this makes it land there in every run, with no timing to tune.
   */
  crashBetweenSetnxAndExpire?: boolean;
  /**
   * This design's lease, instead of the workload's `ttl`: how long a holder may stall before
   * Redis gives its lock away is part of how a lock is designed, so two designs under the same
   * load may choose differently (a lease that outlasts a pause, say). Default: the workload's.
   */
  ttl?: Duration;
}

const redisLockClientSchema = z
  .strictObject({
    strategy: z.enum(lockStrategies, { error: (issue) => `unknown lock strategy ${JSON.stringify(issue.input)}; give one of ${lockStrategies.map((s) => `'${s}'`).join(', ')}` }).default('token'),
    crashBetweenSetnxAndExpire: z.boolean().optional(),
    // A malformed duration has durationSchema's message; this one speaks only of those that parse.
    ttl: durationSchema.refine((s) => (parseDuration(s) ?? 1) >= 1, { message: 'give at least 1ms' }).optional(),
  })
  .check((ctx) => {
    if (ctx.value.crashBetweenSetnxAndExpire && ctx.value.strategy !== 'setnx-expire') {
      ctx.issues.push({ code: 'custom', input: ctx.value, path: ['crashBetweenSetnxAndExpire'], message: `only the setnx-expire strategy has a gap between SETNX and EXPIRE; this design's strategy is '${ctx.value.strategy}': remove crashBetweenSetnxAndExpire` });
    }
  });

/** One client process as the driver knows it. */
interface ClientProc {
  name: string;
  child: ChildProcess;
  pid: number;
  frozen: boolean;
  /** Killed by a crash fault, or the driver closing: its exit is no failure. */
  expectedExit: boolean;
  exited: boolean;
  stderr: string;
  ready: Promise<void>;
  stopped: Promise<void>;
  exit: Promise<void>;
  onReady: () => void;
  onStopped: () => void;
  onAt: ((point: FaultPoint) => void) | undefined;
}


/** `p`, or undefined once `ms` passed. */
function bounded<T>(p: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const late = new Promise<undefined>((resolve) => (timer = setTimeout(() => resolve(undefined), ms)));
  return Promise.race([p, late]).finally(() => clearTimeout(timer));
}

/**
 * The lock workload against Redis: `clients` processes (lock-client.ts), each in its own
 * process group, loop acquire → hold → release with the design's strategy, contending for the
 * resources of a protected resource this driver serves in its own process (LockResource).
 *
 * Clocks: the history's overlaps and stale writes come from the resource's records, stamped
 * on this process's performance.now() as the resource handles each request (see
 * LockResource). The clients measure durations only (acquire latency, hold time) on their own
 * monotonic clocks and report them over IPC; the driver places each in the window by its own
 * clock at receipt, minus the duration. Nothing compares two processes' clocks.
 *
 * Faults on clients: `freeze` stops a client's process group with SIGSTOP (SIGCONT at the
 * end), `crash` kills it with SIGKILL (a new process at the end, with `for`). Where they land
 * in the client's code, see LockWorkload.clientFaultsLand and crashBetweenSetnxAndExpire.
 *
 * After the window every client finishes its cycle and stops; then each master is asked for
 * every resource's lock key: one with no expiry (PTTL -1) is a stuck lock (`stuck`). Closing
 * kills what is left, records each resource's final counter, and deletes the keys.
 */
class LockDriver implements LoadDriver {
  readonly model = 'closed' as const;
  readonly connections: number;
  private readonly settings: LockSettings;
  private readonly client: RedisLockClientOptions;
  private readonly endpoints: readonly Endpoint[];
  private readonly sink: MetricSink;
  private readonly resources: string[];
  private readonly resource: LockResource;
  private readonly procs = new Map<string, ClientProc>();
  private readonly admins: Redis[];
  private readonly commandTimeoutMs: number;
  private resourceAddress: { host: string; port: number } | undefined;
  private window: RunWindow | undefined;
  private endTimer: NodeJS.Timeout | undefined;
  private stopping = false;
  private stopped = false;
  private closed = false;
  private failure: Error | undefined;
  private readonly killAllNow = (): void => {
    for (const p of this.procs.values()) if (!p.exited) signalGroup(p.pid, 'SIGKILL');
  };

  constructor(workload: LockWorkload, ctx: DriverContext<RedisLockClientOptions>) {
    this.client = ctx.client;
    const settings = lockSettings(workload);
    this.settings = this.client.ttl === undefined ? settings : { ...settings, ttlMs: parseDuration(this.client.ttl)! };
    this.connections = this.settings.clients;
    this.sink = ctx.sink;
    this.resources = resourceNames(this.settings.resources);
    const masters = ctx.entry.endpoints;
    if (masters.length === 0) throw new Error('the design has no Redis endpoint for the lock clients');
    this.endpoints = this.client.strategy === 'redlock' ? masters : [masters[0]!];
    // Redlock waits on each master only a small part of the lease (its per-instance timeout);
    // a single master may take longer before an attempt counts as failed.
    this.commandTimeoutMs = this.client.strategy === 'redlock' ? Math.max(20, Math.round(this.settings.ttlMs / 10)) : Math.max(1_000, this.settings.ttlMs);
    this.resource = new LockResource({ sink: ctx.sink, ttlMs: this.settings.ttlMs, fencing: this.client.strategy === 'fenced' });
    const { Redis } = require('ioredis') as typeof import('ioredis');
    this.admins = this.endpoints.map((ep) => {
      const r = new Redis({ host: ep.host, port: ep.port, lazyConnect: true, commandTimeout: 5_000, connectTimeout: 5_000, maxRetriesPerRequest: 1, retryStrategy: () => 100 });
      r.on('error', () => {});
      return r;
    });
  }

  async prepare(): Promise<void> {
    process.on('exit', this.killAllNow);
    try {
      this.resourceAddress = await this.resource.listen();
      await Promise.all(this.admins.map((a) => a.connect()));
      // A master reused from an earlier run starts without its locks and counters.
      await this.clearKeys();
      const names = Array.from({ length: this.settings.clients }, (_, i) => `client-${i + 1}`);
      for (const name of names) this.spawn(name);
      await Promise.all([...this.procs.values()].map((p) => this.whenReady(p)));
    } catch (err) {
      await this.close();
      throw err;
    }
  }

  private config(name: string): ClientConfig {
    const s = this.settings;
    // `own`: client-k is handed rk alone (wrapping round), so it never draws another's resource.
    const k = Number(name.slice(name.lastIndexOf('-') + 1));
    const resources = s.resourceChoice === 'own' ? [this.resources[(k - 1) % this.resources.length]!] : this.resources;
    return {
      name,
      strategy: this.client.strategy,
      masters: this.endpoints.map((e) => ({ host: e.host, port: e.port })),
      resource: this.resourceAddress!,
      resources,
      ttlMs: s.ttlMs,
      holdMs: s.holdMs,
      acquireTimeoutMs: s.acquireTimeoutMs,
      retryDelayMs: s.retryDelayMs,
      thinkMs: s.thinkMs,
      commandTimeoutMs: this.commandTimeoutMs,
    };
  }

  private spawn(name: string): ClientProc {
    const runId = process.env[RUN_ID_ENV];
    const child = fork(clientScript, [], {
      // Its own process group, so SIGSTOP and SIGKILL reach the client and nothing else.
      detached: true,
      execArgv: [],
      stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
      serialization: 'json',
      // Tagged with the run like the runtime's services, so leftovers can be found and cleaned.
      env: { ...process.env, FAULTLINE_LOCK_CLIENT: name, ...(runId === undefined ? {} : { [RUN_ID_ENV]: runId, [SERVICE_ENV]: `lock-${name}` }) },
    });
    if (child.pid === undefined) throw new Error(`lock client ${name} did not start`);
    // The run's watchdog, if any, kills the group should faultline die before it stops it.
    watchGroup(child.pid);
    let onReady = (): void => {};
    let onStopped = (): void => {};
    let onExit = (): void => {};
    const p: ClientProc = {
      name,
      child,
      pid: child.pid,
      frozen: false,
      expectedExit: false,
      exited: false,
      stderr: '',
      ready: new Promise<void>((resolve) => (onReady = resolve)),
      stopped: new Promise<void>((resolve) => (onStopped = resolve)),
      exit: new Promise<void>((resolve) => (onExit = resolve)),
      onReady: () => onReady(),
      onStopped: () => onStopped(),
      onAt: undefined,
    };
    child.stderr!.on('data', (d: Buffer) => {
      p.stderr = (p.stderr + d.toString('utf8')).slice(-STDERR_TAIL_BYTES);
    });
    child.on('message', (m: FromClient) => this.onMessage(p, m));
    child.on('error', () => {});
    child.once('exit', (code, signal) => {
      p.exited = true;
      if (!p.expectedExit && !this.closed && this.failure === undefined) {
        this.failure = new Error(`lock client ${name} (pid ${p.pid}) exited unexpectedly (${signal ?? `code ${code}`})${p.stderr ? `: ${p.stderr.trim()}` : ''}`);
      }
      p.onStopped();
      onExit();
    });
    this.procs.set(name, p);
    this.tell(p, { t: 'init', config: this.config(name) });
    return p;
  }

  private async whenReady(p: ClientProc): Promise<void> {
    const ready = await bounded(Promise.race([p.ready.then(() => true), p.exit.then(() => false)]), READY_TIMEOUT_MS);
    if (ready === true) return;
    const why = ready === false ? 'exited before it was ready' : `was not ready after ${READY_TIMEOUT_MS} ms`;
    throw new Error(`lock client ${p.name} (pid ${p.pid}) ${why}${p.stderr ? `: ${p.stderr.trim()}` : ''}`);
  }

  private tell(p: ClientProc, m: ToClient): void {
    if (p.exited || !p.child.connected) return;
    // A send to a client that died meanwhile fails; its exit is accounted for where it is handled.
    p.child.send(m, () => {});
  }

  private onMessage(p: ClientProc, m: FromClient): void {
    const now = performance.now();
    const sink = this.sink;
    switch (m.t) {
      case 'ready':
        p.onReady();
        return;
      case 'acquired':
      case 'acquire-failed': {
        const began = now - m.latencyUs / 1000;
        sink.sent(began, 0);
        sink.op(ACQUIRE, began, m.latencyUs, m.t === 'acquired' ? 'ok' : m.kind);
        if (m.t === 'acquired') sink.count(ACQUISITIONS, began);
        if (m.failedAttempts > 0) sink.count(FAILED_ATTEMPTS, began, m.failedAttempts);
        return;
      }
      case 'released':
        sink.value(HOLD, now - m.heldUs / 1000, m.heldUs);
        this.sink.history(now, { ev: 'release', c: p.name, r: m.r, del: m.outcome, ...(m.of === undefined ? {} : { of: m.of }) });
        return;
      case 'lease-lost':
        sink.count(LOST_LEASES, now);
        this.sink.history(now, { ev: 'lease-lost', c: p.name, r: m.r, why: m.why });
        return;
      case 'at':
        p.onAt?.(m.point);
        return;
      case 'stopped':
        p.onStopped();
        return;
    }
  }

  start(window: RunWindow): void {
    this.window = window;
    for (const p of this.procs.values()) this.tell(p, { t: 'go' });
    this.endTimer = setTimeout(() => this.askToStop(), Math.max(0, window.endMs - performance.now()));
  }

  private askToStop(): void {
    this.stopping = true;
    for (const p of this.procs.values()) this.tell(p, { t: 'stop' });
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    clearTimeout(this.endTimer);
    this.askToStop();
    // A cycle under way: the rest of a hold, a few requests, a release.
    const boundMs = this.settings.holdMs + 4 * this.commandTimeoutMs + 2_000;
    // A client still frozen cannot finish its cycle; closing kills it.
    await Promise.all([...this.procs.values()].filter((p) => !p.frozen).map((p) => bounded(p.stopped, boundMs)));
    await this.checkStuckLocks();
    if (this.failure) throw this.failure;
  }

  /**
   * Every resource's lock key on every master the design's strategy uses: one with no expiry
   * (PTTL -1) is a lock nobody will ever get again (`stuck`). Clients have released what they
   * held by now, so a key still there with a TTL is a lease running out, not a stuck lock.
   */
  private async checkStuckLocks(): Promise<void> {
    for (const [m, admin] of this.admins.entries()) {
      try {
        const pipeline = admin.pipeline();
        for (const r of this.resources) {
          pipeline.pttl(lockKey(r));
          pipeline.get(lockKey(r));
        }
        const answers = (await pipeline.exec()) ?? [];
        const now = performance.now();
        this.resources.forEach((r, i) => {
          const [ttlErr, ttl] = answers[2 * i] ?? [];
          const [, value] = answers[2 * i + 1] ?? [];
          if (ttlErr || ttl !== -1) return;
          this.sink.history(now, { ev: 'stuck', r, m: m + 1, ...(typeof value === 'string' ? { holder: holderOf(value) } : {}) });
        });
        this.sink.history(now, { ev: 'locks-checked', m: m + 1, resources: this.resources.length });
      } catch (err) {
        this.sink.history(performance.now(), { ev: 'locks-checked', m: m + 1, error: err instanceof Error ? err.message : String(err) });
      }
    }
  }

  private live(name: string): ClientProc {
    const p = this.procs.get(name);
    if (!p) throw new Error(`no lock client '${name}'; clients: ${[...this.procs.keys()].join(', ')}`);
    if (p.exited) throw new Error(`lock client ${name} is not running (it crashed or exited)`);
    return p;
  }

  /** Waits (bounded) until the client reaches `point` in its code and waits there for the driver. */
  private async reach(p: ClientProc, point: FaultPoint): Promise<void> {
    const there = Promise.race([new Promise<void>((resolve) => (p.onAt = (at) => at === point && resolve())), p.exit]);
    this.tell(p, { t: 'arm', point });
    const reached = await bounded(there.then(() => true), ARM_WAIT_MS);
    p.onAt = undefined;
    // Not there in time: the fault lands wherever the client is. Messages are handled in
    // order, so once `none` is read the client cannot stop at the point any more.
    if (!reached) this.tell(p, { t: 'arm', point: 'none' });
  }

  async freeze(name: string): Promise<void> {
    const p = this.live(name);
    if (p.frozen) throw new Error(`lock client ${name} is frozen already`);
    if (this.settings.clientFaultsLand === 'in-hold') await this.reach(p, 'hold');
    if (p.exited || !signalGroup(p.pid, 'SIGSTOP')) throw new Error(`lock client ${name} is not running, so it cannot be frozen`);
    p.frozen = true;
    this.sink.history(performance.now(), { ev: 'freeze', c: name });
    // Read once the client runs again: a client waiting at the point goes on from there.
    this.tell(p, { t: 'continue' });
  }

  async thaw(name: string): Promise<void> {
    const p = this.procs.get(name);
    if (!p || !p.frozen) return;
    p.frozen = false;
    if (!p.exited) signalGroup(p.pid, 'SIGCONT');
    this.sink.history(performance.now(), { ev: 'thaw', c: name });
    await Promise.resolve();
  }

  async crash(name: string): Promise<void> {
    const p = this.live(name);
    const point = this.client.crashBetweenSetnxAndExpire ? 'gap' : this.settings.clientFaultsLand === 'in-hold' ? 'hold' : undefined;
    if (point) await this.reach(p, point);
    p.expectedExit = true;
    signalGroup(p.pid, 'SIGKILL');
    await p.exit;
    this.sink.history(performance.now(), { ev: 'crash', c: name });
  }

  async revive(name: string): Promise<void> {
    const p = this.procs.get(name);
    if (!p || !p.exited || this.closed) return;
    // The window is over: a new client would only be stopped again.
    if (this.stopping) return;
    const fresh = this.spawn(name);
    await this.whenReady(fresh);
    this.tell(fresh, { t: 'go' });
    // The window ended while it started: it stops at once, and says so.
    if (this.stopping) this.tell(fresh, { t: 'stop' });
    this.sink.history(performance.now(), { ev: 'revive', c: name });
  }

  private async clearKeys(): Promise<void> {
    for (const admin of this.admins) await this.clearKeysOn(admin);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearTimeout(this.endTimer);
    const procs = [...this.procs.values()].filter((p) => !p.exited);
    for (const p of procs) {
      p.expectedExit = true;
      // A frozen client reads nothing: it is killed below like one that does not leave in time.
      if (p.frozen) signalGroup(p.pid, 'SIGKILL');
      else if (p.child.connected) p.child.disconnect();
    }
    await Promise.all(procs.map((p) => bounded(p.exit, EXIT_GRACE_MS)));
    for (const p of procs) if (!p.exited) signalGroup(p.pid, 'SIGKILL');
    await Promise.all(procs.map((p) => p.exit));
    process.off('exit', this.killAllNow);
    this.resource.recordFinal();
    await this.resource.close();
    await Promise.allSettled(this.admins.map(async (a) => {
      if (a.status === 'ready') await this.clearKeysOn(a);
      a.disconnect();
    }));
  }

  private async clearKeysOn(admin: Redis): Promise<void> {
    const keys = this.resources.flatMap((r) => [lockKey(r), fenceKey(r)]);
    for (let i = 0; i < keys.length; i += 1_000) await admin.del(...keys.slice(i, i + 1_000));
  }
}

const lockRedisAdapter: Adapter<LockWorkload, RedisLockClientOptions> = {
  client: redisLockClientSchema as unknown as z.ZodType<RedisLockClientOptions>,
  create: (workload, ctx) => new LockDriver(workload, ctx),
};

/** The `lock` workload kind: clients contend for locks on a protected resource; overlaps, stale writes and lost updates counted from the resource's own records. */
export const lockDriver: DriverDefinition<LockWorkload> = {
  description: 'lock clients (one process each) acquire, hold and release locks on a protected resource: acquire latency, hold time, and every overlap, stale write, lost update, foreign release and stuck lock counted',
  workload: lockWorkloadSchema,
  wording: { one: 'acquisition', many: 'acquisitions' },
  vocabulary: {
    errorKinds: [
      { name: 'acquire_timeout', description: 'the lock was not acquired within acquireTimeout (it stayed taken)' },
      { name: 'redis_error', description: 'the lock was not acquired within acquireTimeout, and the last attempt failed on Redis (connection refused or lost, command timeout)' },
    ],
    distributions: {
      [HOLD]: { description: "how long each lock was held, from acquired to the release sent (the client's own clock)", better: 'neither' },
    },
    counters: {
      [ACQUISITIONS]: { description: 'locks acquired', better: 'higher' },
      [FAILED_ATTEMPTS]: { description: 'attempts that did not get the lock (taken, no majority, or a Redis error) before an acquisition or a timeout', better: 'lower' },
      [LOST_LEASES]: { description: 'holds that learned they had lost their lock: a renewal or release found another value or none, or the resource refused their fencing token', better: 'lower' },
    },
  },
  adapters: { redis: lockRedisAdapter },
  checkers: [locksChecker, lockTimelineChecker],
  clients: lockClientNames,
  keepsHistory: () => true,
};
