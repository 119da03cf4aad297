/**
 * One lock client, in a process of its own so that a fault can freeze it (SIGSTOP) or kill it
 * exactly like a long GC pause or a crash. Started by the lock driver with an IPC channel:
 * it waits for `init` (its settings), connects to the Redis masters and the protected
 * resource, says `ready`, and on `go` loops acquire → hold → release until `stop`. It reports
 * each acquisition and release to the driver; what happens on the resource the resource
 * records itself. When the channel closes (the driver stopped it, or died) the client exits.
 */
import { randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { Redis } from 'ioredis';
import { fenceKey, holderOf, lockKey, lockValue, type ClientConfig, type FaultPoint, type FromClient, type ReleaseOutcome, type ResourceAnswer, type ResourceRequest, type ToClient } from './lock-protocol.ts';

/** Release for the DEL strategies: deletes whatever holds the key, exactly as DEL, and answers what it deleted (nil: nothing). */
const DEL_OBSERVED = `local v = redis.call('GET', KEYS[1])
if v then redis.call('DEL', KEYS[1]) end
return v`;
/** Compare-and-delete: deletes the lock only while it still holds the caller's value. */
const COMPARE_AND_DELETE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`;
/** Compare-and-pexpire: renews the lease only while the lock still holds the caller's value. */
const COMPARE_AND_PEXPIRE = `if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`;
/** SET NX PX and, in the same script (so in the order of grants), the next fencing token. */
const SET_AND_FENCE = `if redis.call('SET', KEYS[1], ARGV[1], 'NX', 'PX', ARGV[2]) then return redis.call('INCR', KEYS[2]) end
return false`;

interface LockScripts {
  delObserved(key: string): Promise<string | null>;
  compareAndDelete(key: string, value: string): Promise<number>;
  compareAndPexpire(key: string, value: string, ttlMs: number): Promise<number>;
  setAndFence(lock: string, fence: string, value: string, ttlMs: number): Promise<number | null>;
}
type Master = Redis & LockScripts;

function send(m: FromClient): void {
  process.send?.(m);
}

function die(err: unknown): never {
  process.stderr.write(`lock client ${process.env.FAULTLINE_LOCK_CLIENT ?? ''}: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
}

/** One async task at a time: a renewal and its notice to the resource never interleave with a request of the hold. */
class Serial {
  private tail: Promise<unknown> = Promise.resolve();
  run<T>(fn: () => Promise<T>): Promise<T> {
    const next = this.tail.then(fn, fn);
    this.tail = next.catch(() => {});
    return next;
  }
}

/** The connection to the protected resource: one JSON line per request, answers in order. */
class ResourceLink {
  private readonly socket: Socket;
  private buffer = '';
  private readonly waiting: ((a: ResourceAnswer) => void)[] = [];

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setNoDelay(true);
    socket.on('data', (chunk: Buffer) => {
      this.buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = this.buffer.indexOf('\n')) >= 0) {
        const line = this.buffer.slice(0, nl);
        this.buffer = this.buffer.slice(nl + 1);
        this.waiting.shift()?.(JSON.parse(line) as ResourceAnswer);
      }
    });
    socket.on('close', () => die(new Error('the protected resource closed the connection')));
  }

  static open(ep: { host: string; port: number }): Promise<ResourceLink> {
    return new Promise((resolve, reject) => {
      const socket = connect(ep);
      socket.once('error', reject);
      socket.once('connect', () => {
        socket.off('error', reject);
        socket.on('error', die);
        resolve(new ResourceLink(socket));
      });
    });
  }

  request(q: ResourceRequest): Promise<ResourceAnswer> {
    return new Promise((resolve) => {
      this.waiting.push(resolve);
      this.socket.write(`${JSON.stringify(q)}\n`);
    });
  }
}

/** A lock held: on which resource, with which value, its fencing token, since when (this process's clock). */
interface Held {
  r: string;
  n: number;
  value: string;
  fence: number | undefined;
  sinceMs: number;
  /** The holder already learned it lost the lock (reported once). */
  lost: boolean;
}

/** How one strategy takes, keeps and gives back a lock. */
interface Strategy {
  /** One attempt: the fencing token (or null) when the lock is taken by this client, undefined when someone else has it. Throws on a Redis error. */
  tryAcquire(r: string, value: string): Promise<{ fence: number | null } | undefined>;
  release(h: Held): Promise<{ outcome: ReleaseOutcome; of?: string }>;
  /** Renews the lease while it still holds this value; false when it does not. */
  renew?(h: Held): Promise<boolean>;
  /** Whether its values carry a random token (a strategy without one uses the value only to observe a release). */
  random: boolean;
}

/** DEL whoever holds the lock, observing whose it was (see DEL_OBSERVED). */
async function delRelease(m: Master, h: Held): Promise<{ outcome: ReleaseOutcome; of?: string }> {
  const v = await m.delObserved(lockKey(h.r));
  if (v === null) return { outcome: 'none' };
  return v === h.value ? { outcome: 'own' } : { outcome: 'foreign', of: holderOf(v) };
}

async function cadRelease(m: Master, h: Held): Promise<{ outcome: ReleaseOutcome }> {
  return { outcome: (await m.compareAndDelete(lockKey(h.r), h.value)) === 1 ? 'own' : 'none' };
}

function strategyFor(cfg: ClientConfig, masters: Master[], atPoint: (p: FaultPoint) => Promise<void>): Strategy {
  const first = masters[0]!;
  const ttl = cfg.ttlMs;
  switch (cfg.strategy) {
    case 'setnx-expire':
      return {
        random: false,
        async tryAcquire(r, value) {
          if ((await first.setnx(lockKey(r), value)) !== 1) return undefined;
          // A crash fault armed for the gap lands here: the lock is set and has no expiry yet.
          await atPoint('gap');
          await first.pexpire(lockKey(r), ttl);
          return { fence: null };
        },
        release: (h) => delRelease(first, h),
      };
    case 'set-nx-px':
      return {
        random: false,
        tryAcquire: async (r, value) => ((await first.set(lockKey(r), value, 'PX', ttl, 'NX')) === 'OK' ? { fence: null } : undefined),
        release: (h) => delRelease(first, h),
      };
    case 'token':
    case 'watchdog':
      return {
        random: true,
        tryAcquire: async (r, value) => ((await first.set(lockKey(r), value, 'PX', ttl, 'NX')) === 'OK' ? { fence: null } : undefined),
        release: (h) => cadRelease(first, h),
        ...(cfg.strategy === 'watchdog' ? { renew: async (h: Held) => (await first.compareAndPexpire(lockKey(h.r), h.value, ttl)) === 1 } : {}),
      };
    case 'fenced':
      return {
        random: true,
        async tryAcquire(r, value) {
          const fence = await first.setAndFence(lockKey(r), fenceKey(r), value, ttl);
          return fence === null ? undefined : { fence };
        },
        release: (h) => cadRelease(first, h),
      };
    case 'redlock': {
      const quorum = Math.floor(masters.length / 2) + 1;
      const drift = ttl * 0.01 + 2;
      return {
        random: true,
        async tryAcquire(r, value) {
          const began = performance.now();
          const answers = await Promise.allSettled(masters.map((m) => m.set(lockKey(r), value, 'PX', ttl, 'NX')));
          const granted = answers.filter((a) => a.status === 'fulfilled' && a.value === 'OK').length;
          const validity = ttl - (performance.now() - began) - drift;
          if (granted >= quorum && validity > 0) return { fence: null };
          // No majority in time: give back what was granted, on every master (a late grant too).
          await Promise.allSettled(masters.map((m) => m.compareAndDelete(lockKey(r), value)));
          const failed = answers.find((a) => a.status === 'rejected');
          if (failed && answers.every((a) => a.status === 'rejected')) throw failed.reason;
          return undefined;
        },
        async release(h) {
          const answers = await Promise.allSettled(masters.map((m) => m.compareAndDelete(lockKey(h.r), h.value)));
          return { outcome: answers.some((a) => a.status === 'fulfilled' && a.value === 1) ? 'own' : 'none' };
        },
      };
    }
  }
}

class LockClient {
  private readonly cfg: ClientConfig;
  private readonly masters: Master[];
  private readonly resource: ResourceLink;
  private readonly strategy: Strategy;
  private readonly serial = new Serial();
  private stopping = false;
  private wake: (() => void) | undefined;
  private armed: FaultPoint | undefined;
  private resumeAfterPoint: (() => void) | undefined;
  private n = 0;

  private constructor(cfg: ClientConfig, masters: Master[], resource: ResourceLink) {
    this.cfg = cfg;
    this.masters = masters;
    this.resource = resource;
    this.strategy = strategyFor(cfg, masters, (p) => this.atPoint(p));
  }

  static async open(cfg: ClientConfig): Promise<LockClient> {
    const masters = cfg.masters.map((ep) => {
      const m = new Redis({
        host: ep.host,
        port: ep.port,
        lazyConnect: true,
        connectTimeout: 5_000,
        // A command in flight when the connection drops fails at once; the acquire loop retries.
        maxRetriesPerRequest: 0,
        retryStrategy: () => 50,
        enableAutoPipelining: false,
      }) as Master;
      m.on('error', () => {});
      m.defineCommand('delObserved', { numberOfKeys: 1, lua: DEL_OBSERVED });
      m.defineCommand('compareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE });
      m.defineCommand('compareAndPexpire', { numberOfKeys: 1, lua: COMPARE_AND_PEXPIRE });
      m.defineCommand('setAndFence', { numberOfKeys: 2, lua: SET_AND_FENCE });
      return m;
    });
    await Promise.all(masters.map((m) => m.connect()));
    // Connected (the ready check answered, at whatever speed a busy machine gives it): from
    // now on a command not answered in time fails, which Redlock's per-master wait relies on.
    for (const m of masters) m.options.commandTimeout = cfg.commandTimeoutMs;
    const resource = await ResourceLink.open(cfg.resource);
    await resource.request({ o: 'hi', c: cfg.name, p: process.pid });
    return new LockClient(cfg, masters, resource);
  }

  stop(): void {
    this.stopping = true;
    this.wake?.();
  }

  arm(point: FaultPoint | 'none'): void {
    this.armed = point === 'none' ? undefined : point;
  }

  resume(): void {
    this.resumeAfterPoint?.();
    this.resumeAfterPoint = undefined;
  }

  /**
   * Where an armed fault lands: the client says where it is and waits for the driver, which
   * stops or kills it while it waits. Nothing else runs in this client meanwhile (a watchdog's
   * renewal timer aside), so the fault lands at this point in the code, every time.
   */
  private async atPoint(point: FaultPoint): Promise<void> {
    if (this.armed !== point) return;
    this.armed = undefined;
    await new Promise<void>((resolve) => {
      this.resumeAfterPoint = resolve;
      send({ t: 'at', point });
    });
  }

  /** Waits `ms`, or less when the client is told to stop. */
  private pause(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(done, ms);
      this.wake = done;
      function done() {
        clearTimeout(timer);
        resolve();
      }
    });
  }

  async run(): Promise<void> {
    const { resources } = this.cfg;
    while (!this.stopping) {
      const r = resources[Math.floor(Math.random() * resources.length)]!;
      const held = await this.acquire(r);
      if (!held) continue;
      await this.hold(held);
      await this.release(held);
      if (this.cfg.thinkMs > 0 && !this.stopping) await this.pause(this.cfg.thinkMs * (0.5 + Math.random()));
    }
    await Promise.allSettled(this.masters.map((m) => m.quit()));
    send({ t: 'stopped' });
  }

  private async acquire(r: string): Promise<Held | undefined> {
    const began = performance.now();
    let failedAttempts = 0;
    for (;;) {
      const n = ++this.n;
      const value = lockValue(this.cfg.name, process.pid, n, this.strategy.random ? randomBytes(8).toString('hex') : '');
      let error: unknown;
      try {
        const got = await this.strategy.tryAcquire(r, value);
        if (got) {
          const sinceMs = performance.now();
          const fence = got.fence ?? undefined;
          send({ t: 'acquired', r, latencyUs: Math.round((sinceMs - began) * 1000), failedAttempts, ...(fence === undefined ? {} : { fence }) });
          return { r, n, value, fence, sinceMs, lost: false };
        }
      } catch (err) {
        error = err;
      }
      failedAttempts++;
      // An attempt the end of the window cut short is not a failure of the lock.
      if (this.stopping) return undefined;
      const waited = performance.now() - began;
      if (waited >= this.cfg.acquireTimeoutMs) {
        send({
          t: 'acquire-failed',
          r,
          latencyUs: Math.round(waited * 1000),
          failedAttempts,
          kind: error === undefined ? 'acquire_timeout' : 'redis_error',
          ...(error === undefined ? {} : { message: error instanceof Error ? error.message : String(error) }),
        });
        return undefined;
      }
      const delay = this.cfg.retryDelayMs * (0.5 + Math.random());
      await this.pause(Math.min(delay, this.cfg.acquireTimeoutMs - waited));
    }
  }

  private lost(h: Held, why: string): void {
    if (h.lost) return;
    h.lost = true;
    send({ t: 'lease-lost', r: h.r, why });
  }

  /** The critical section: begin, read, work for `hold`, write read + 1, end; a watchdog renews meanwhile. */
  private async hold(h: Held): Promise<void> {
    const k = h.fence === undefined ? {} : { k: h.fence };
    const id = `${this.cfg.name}@${process.pid}#${h.n}`;
    const res = this.resource;
    const renew = this.strategy.renew;
    let renewing: NodeJS.Timeout | undefined;
    if (renew) {
      renewing = setInterval(() => {
        void this.serial.run(async () => {
          if (h.lost) return;
          let renewed: boolean;
          try {
            renewed = await renew(h);
          } catch {
            // Not known to be renewed: no notice; the next turn tries again.
            return;
          }
          // The notice goes before any later request of this hold (the serial queue): every
          // renewal the resource hears of happened before the requests it receives after it.
          if (renewed) await res.request({ o: 'renew', r: h.r });
          else this.lost(h, 'the lease could not be renewed: the lock holds another value or none');
        });
      }, Math.max(1, this.cfg.ttlMs / 3));
    }
    try {
      const begun = await this.serial.run(() => res.request({ o: 'begin', r: h.r, h: id, ...k }));
      if (!begun.ok) {
        this.lost(h, begun.why);
        return;
      }
      const read = await this.serial.run(() => res.request({ o: 'read', r: h.r, ...k }));
      if (read.ok) {
        await this.atPoint('hold');
        if (this.cfg.holdMs > 0) await new Promise((resolve) => setTimeout(resolve, this.cfg.holdMs));
        const written = await this.serial.run(() => res.request({ o: 'write', r: h.r, v: (read.v ?? 0) + 1, ...k }));
        if (!written.ok) this.lost(h, written.why);
      } else {
        this.lost(h, read.why);
      }
      await this.serial.run(() => res.request({ o: 'end', r: h.r }));
    } finally {
      if (renewing) clearInterval(renewing);
    }
  }

  private async release(h: Held): Promise<void> {
    // A renewal under way finishes first: the release is the last word on this lock.
    await this.serial.run(async () => {});
    const heldUs = Math.round((performance.now() - h.sinceMs) * 1000);
    let result: { outcome: ReleaseOutcome; of?: string };
    try {
      result = await this.strategy.release(h);
    } catch {
      // The lock is left to expire; the client cannot tell whose it was by now.
      result = { outcome: 'none' };
    }
    send({ t: 'released', r: h.r, heldUs, ...result });
    if (result.outcome !== 'own') this.lost(h, result.outcome === 'foreign' ? `its release deleted ${result.of}'s lock` : 'its lock was gone (expired) at release');
  }
}

let client: LockClient | undefined;
let stopAsked = false;

process.on('disconnect', () => process.exit(0));
process.on('message', (m: ToClient) => {
  switch (m.t) {
    case 'init':
      LockClient.open(m.config).then((c) => {
        client = c;
        send({ t: 'ready' });
      }, die);
      break;
    case 'go':
      if (!client) die(new Error('go before init'));
      if (stopAsked) client.stop();
      client.run().catch(die);
      break;
    case 'stop':
      stopAsked = true;
      client?.stop();
      break;
    case 'arm':
      client?.arm(m.point);
      break;
    case 'continue':
      client?.resume();
      break;
  }
});
