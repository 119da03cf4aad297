import { readFile } from 'node:fs/promises';
import { setTimeout as sleep } from 'node:timers/promises';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { redisTarget } from '../../../targets/redis/redis.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import type { Endpoint, StartedService } from '../../runtime/runtime.ts';
import { drive, type Driven } from '../../testing/drive.ts';
import { processesOfRun } from '../../testing/processes.ts';
import type { LoadDriver } from '../driver.ts';
import { lockDriver } from './lock-driver.ts';
import { holderOf, lockKey, type LockStrategy } from './lock-protocol.ts';
import { lock } from './lock-workload.ts';

/** A history record as the test reads it back. */
type Rec = { t: number; ev: string; c?: string; r?: string; h?: string; v?: number; prev?: number; ttl?: number; rej?: boolean; del?: string; writes?: number; end?: number };

/** What the history says, counted the plain way (every pair of holds compared): the test's own numbers, not the checker's. */
interface Truth {
  records: Rec[];
  /** Pairs of holds on one resource whose [begin, end or fenced-out) intervals intersect. */
  overlaps: number;
  /** Those pairs, earlier begin first. */
  overlapping: [Rec, Rec][];
  /** Accepted writes later than their hold's begin + ttl (no renewals in the strategies this is used for). */
  staleWrites: Rec[];
  /** Accepted writes minus the resource's own final counter. */
  lostUpdates: number;
  /** Writes the resource refused. */
  refusedWrites: number;
  foreignReleases: number;
  stuck: number;
}

function truthOf(records: Rec[]): Truth {
  const lastT = Math.max(...records.map((r) => r.t));
  const holds = records.filter((r) => r.ev === 'hold' && !r.rej).map((b) => {
    const ends = records.filter((r) => (r.ev === 'end' || r.ev === 'fenced-out') && r.h === b.h).map((r) => r.t);
    return { ...b, end: ends.length > 0 ? Math.min(...ends) : lastT };
  });
  const overlapping: [Rec, Rec][] = [];
  for (let i = 0; i < holds.length; i++) {
    for (let j = i + 1; j < holds.length; j++) {
      const a = holds[i]!;
      const b = holds[j]!;
      if (a.r === b.r && a.t < b.end && b.t < a.end) overlapping.push(a.t <= b.t ? [a, b] : [b, a]);
    }
  }
  const accepted = records.filter((r) => r.ev === 'write' && !r.rej);
  const staleWrites = accepted.filter((w) => {
    const begin = holds.find((h) => h.h === w.h);
    return begin !== undefined && w.t > begin.t + begin.ttl!;
  });
  const finals = records.filter((r) => r.ev === 'final');
  const finalSum = finals.reduce((s, f) => s + f.v!, 0);
  return {
    records,
    overlaps: overlapping.length,
    overlapping,
    staleWrites,
    lostUpdates: accepted.length - finalSum,
    refusedWrites: records.filter((r) => r.ev === 'write' && r.rej).length,
    foreignReleases: records.filter((r) => r.ev === 'release' && r.del === 'foreign').length,
    stuck: records.filter((r) => r.ev === 'stuck').length,
  };
}

const runId = `lock${process.pid}`;
const before = process.env.FAULTLINE_RUN_ID;
let runtime: LocalRuntime;
const started: StartedService[] = [];
let oneMaster: Endpoint[];
let fiveMasters: Endpoint[];

async function startMasters(masters: number, name: string): Promise<Endpoint[]> {
  const topology = redisTarget.topology(redisTarget.options.parse({ masters, name }));
  const eps: Endpoint[] = [];
  for (const spec of topology.services) {
    const s = await runtime.start(spec);
    started.push(s);
    eps.push(s.endpoint());
  }
  return eps;
}

beforeAll(async () => {
  // The lock clients carry the run's id, as they do under `faultline run`.
  process.env.FAULTLINE_RUN_ID = runId;
  runtime = new LocalRuntime({ runId });
  oneMaster = await startMasters(1, 'redis');
  fiveMasters = await startMasters(5, 'redlock');
});

afterAll(async () => {
  await runtime.stopAll();
  if (before === undefined) delete process.env.FAULTLINE_RUN_ID;
  else process.env.FAULTLINE_RUN_ID = before;
  expect(processesOfRun(runId)).toEqual([]);
});

const TTL_MS = 300;
const contention = { clients: 4, resources: 1, ttl: `${TTL_MS}ms`, hold: '20ms', retryDelay: '10ms', acquireTimeout: '2s' } as const;

interface Run extends Driven {
  truth: Truth;
}

/** Drives the lock workload at `masters` with `strategy` for `windowMs`; `meanwhile` acts on the driver (a fault by hand). */
async function run(strategy: LockStrategy, masters: Endpoint[], opts: { windowMs?: number; client?: object; workload?: object; meanwhile?: (d: LoadDriver) => Promise<void> } = {}): Promise<Run> {
  let truth: Truth | undefined;
  const driven = await drive(lockDriver, 'redis', masters, lock({ ...contention, ...opts.workload }), { strategy, ...opts.client }, {
    windowMs: opts.windowMs ?? 2500,
    ...(opts.meanwhile ? { meanwhile: opts.meanwhile } : {}),
    history: async (file) => {
      const text = await readFile(file, 'utf8');
      truth = truthOf(text.split('\n').filter((l) => l.length > 0).map((l) => JSON.parse(l) as Rec));
    },
  });
  // Every client process is gone; only the Redis masters of the run are left.
  expect(processesOfRun(runId).length).toBe(started.length);
  return { ...driven, truth: truth! };
}

/**
 * Freezes client-2 from 300 ms for 800 ms (more than two leases), by hand, as a `freeze` fault
 * does: the freeze waits until client-2 holds the lock (a few holds at most), so the window
 * (2.5 s) leaves it room to thaw, write and release inside it.
 */
async function freezeClient2(d: LoadDriver): Promise<void> {
  await sleep(300);
  await d.freeze!('client-2');
  await sleep(800);
  await d.thaw!('client-2');
}

/**
 * Waits until client-1 holds r1 on every master given (so a Redlock majority outlives losing
 * any one of them), then restarts `victim` while client-1 is still early in its long hold. With
 * no persistence the restarted master comes back empty: client-1's lock on it is gone.
 */
function restartWhileClient1Holds(masters: readonly Endpoint[], victim: StartedService, boundMs: number) {
  return async (): Promise<void> => {
    const admins = masters.map((ep) => {
      const a = new Redis({ host: ep.host, port: ep.port, lazyConnect: true, maxRetriesPerRequest: 1 });
      a.on('error', () => {});
      return a;
    });
    try {
      await Promise.all(admins.map((a) => a.connect()));
      const until = performance.now() + boundMs;
      for (;;) {
        const values = await Promise.all(admins.map((a) => a.get(lockKey('r1'))));
        const first = values[0];
        if (first && holderOf(first) === 'client-1' && values.every((v) => v === first)) break;
        if (performance.now() > until) throw new Error(`client-1 did not hold r1 on every master within ${boundMs} ms (last seen: ${values.join(', ')})`);
        await sleep(2);
      }
    } finally {
      for (const a of admins) a.disconnect();
    }
    await victim.restart();
  };
}

const summary = (r: Run) => `overlaps ${r.checks.overlaps!.value}, stale_writes ${r.checks.stale_writes!.value}, lost_updates ${r.checks.lost_updates!.value}, fenced_rejections ${r.checks.fenced_rejections!.value}`;

describe('lock workload against a real Redis', () => {
  it('finds no overlap, stale write, lost update, foreign release or stuck lock in any strategy when nothing goes wrong', async () => {
    for (const strategy of ['setnx-expire', 'set-nx-px', 'token', 'watchdog', 'fenced', 'redlock'] as const) {
      const r = await run(strategy, strategy === 'redlock' ? fiveMasters : oneMaster, { windowMs: 1000 });
      const acquired = r.summary.counters.acquisitions ?? 0;
      expect(acquired, strategy).toBeGreaterThan(10);
      expect(r.summary.byOperation.acquire!.ok, strategy).toBe(acquired);
      expect(r.summary.totals.errors, strategy).toBe(0);
      // Every write accepted and counted: the resource's counter is the number of writes.
      expect(r.truth.lostUpdates, strategy).toBe(0);
      expect(r.truth.overlaps, strategy).toBe(0);
      for (const name of ['overlaps', 'stale_writes', 'lost_updates', 'foreign_releases', 'stuck_locks', 'fenced_rejections']) expect(r.checks[name]!.value, `${strategy} ${name}`).toBe(0);
    }
  }, 120_000);

  it("keeps each client on its own resource with resourceChoice 'own': no attempt ever finds a lock taken", async () => {
    const r = await run('token', oneMaster, { windowMs: 1000, workload: { clients: 3, resources: 3, resourceChoice: 'own', hold: '0ms', think: '0ms' } });
    const holds = r.truth.records.filter((x) => x.ev === 'hold');
    expect(holds.length).toBeGreaterThan(30);
    expect(new Set(holds.map((x) => `${x.c} ${x.r}`))).toEqual(new Set(['client-1 r1', 'client-2 r2', 'client-3 r3']));
    expect(r.summary.counters.failed_attempts ?? 0).toBe(0);
    expect([r.truth.overlaps, r.truth.lostUpdates]).toEqual([0, 0]);
  }, 60_000);

  it('flags the token strategy in 10 runs of 10 with a client frozen past its lease: an overlap and its stale write', async () => {
    const runs: string[] = [];
    let flagged = 0;
    for (let i = 0; i < 10; i++) {
      const r = await run('token', oneMaster, { meanwhile: freezeClient2 });
      runs.push(summary(r));
      const t = r.truth;
      // The checker's counts are the plain counts over the same history.
      expect(r.checks.overlaps!.value).toBe(t.overlaps);
      expect(r.checks.stale_writes!.value).toBe(t.staleWrites.length);
      expect(r.checks.lost_updates!.value).toBe(t.lostUpdates);
      // The frozen client's write after the thaw was accepted, late.
      const thaw = t.records.find((x) => x.ev === 'thaw')!;
      expect(t.staleWrites.some((w) => w.c === 'client-2' && w.t > thaw.t)).toBe(true);
      if (r.checks.overlaps!.value! >= 1 && r.checks.stale_writes!.value! >= 1) flagged++;
    }
    expect(flagged, runs.join('\n')).toBe(10);
  }, 180_000);

  it('lets no stale write through the fenced strategy in 10 runs of 10 with the same freeze: the resource refuses it', async () => {
    const runs: string[] = [];
    let clean = 0;
    for (let i = 0; i < 10; i++) {
      const r = await run('fenced', oneMaster, { meanwhile: freezeClient2 });
      runs.push(summary(r));
      const t = r.truth;
      expect(r.checks.stale_writes!.value).toBe(t.staleWrites.length);
      expect(r.checks.overlaps!.value).toBe(t.overlaps);
      expect(r.checks.fenced_rejections!.value).toBeGreaterThanOrEqual(t.refusedWrites);
      // The frozen client's write after the thaw was refused, not lost in the counter.
      const thaw = t.records.find((x) => x.ev === 'thaw')!;
      expect(t.records.some((x) => x.ev === 'write' && x.c === 'client-2' && x.t > thaw.t && x.rej)).toBe(true);
      expect(r.checks.lost_updates!.value).toBe(0);
      expect(r.summary.counters.lost_leases).toBeGreaterThanOrEqual(1);
      if (r.checks.stale_writes!.value === 0 && r.checks.overlaps!.value === 0 && r.checks.fenced_rejections!.value! >= 1) clean++;
    }
    expect(clean, runs.join('\n')).toBe(10);
  }, 180_000);

  it("shows set-nx-px's release freeing the next holder's lock after a freeze past the lease", async () => {
    // A thawed client's DEL frees another's lock when someone holds it at that instant: long
    // holds and quick retries keep the lock held ~98% of the time, and two clients frozen in
    // turn give it two chances.
    const freezeFor = async (d: LoadDriver, client: string) => {
      await d.freeze!(client);
      await sleep(800);
      await d.thaw!(client);
    };
    const r = await run('set-nx-px', oneMaster, {
      workload: { hold: '100ms', retryDelay: '2ms', think: '20ms' },
      meanwhile: async (d) => {
        await sleep(300);
        await Promise.all([freezeFor(d, 'client-2'), sleep(50).then(() => freezeFor(d, 'client-3'))]);
      },
    });
    expect(r.checks.foreign_releases!.value).toBe(r.truth.foreignReleases);
    expect(r.checks.foreign_releases!.value).toBeGreaterThanOrEqual(1);
    // A frozen client's DEL, after its thaw, was the first to free someone else's lock.
    const first = r.truth.records.find((x) => x.ev === 'release' && x.del === 'foreign')!;
    const thaw = r.truth.records.find((x) => x.ev === 'thaw' && x.c === first.c);
    expect(['client-2', 'client-3']).toContain(first.c);
    expect(first.t).toBeGreaterThan(thaw!.t);
  }, 60_000);

  it('leaves exactly one stuck lock when setnx-expire crashes between SETNX and EXPIRE', async () => {
    const r = await run('setnx-expire', oneMaster, {
      client: { crashBetweenSetnxAndExpire: true },
      workload: { acquireTimeout: '300ms' },
      meanwhile: async (d) => {
        await sleep(300);
        await d.crash!('client-2');
        await sleep(500);
        await d.revive!('client-2');
      },
    });
    expect(r.truth.stuck).toBe(1);
    expect(r.checks.stuck_locks!.value).toBe(1);
    expect(r.checks.stuck_locks!.examples).toEqual(["r1's lock on master 1 has no expiry (taken by client-2)"]);
    // Nobody gets the lock again: every later attempt times out.
    expect(r.summary.totals.errorsByKind.acquire_timeout).toBeGreaterThan(0);
    expect(r.truth.records.some((x) => x.ev === 'revive' && x.c === 'client-2')).toBe(true);
  }, 60_000);

  it('lets exactly one second holder in when the single master restarts under a holder, and none when one of five Redlock masters does', async () => {
    // Two clients, 1.5 s holds and a 5 s lease: the lease never runs out, so only the restart
    // can take client-1's lock away while it is inside. The window leaves client-1 up to 4 s to
    // get the lock, and its whole hold after that.
    const longHolds = { clients: 2, hold: '1500ms', ttl: '5s', acquireTimeout: '10s' };
    const single = await run('token', oneMaster, { windowMs: 7000, workload: longHolds, meanwhile: restartWhileClient1Holds(oneMaster, started[0]!, 4000) });
    const t = single.truth;
    // The plain pass over the history and the checker agree, pair for pair: client-2 got the
    // lock from the emptied master while client-1 was still inside. Later holds begin after
    // client-1's end (client-2 holds as long as client-1 did, from later on).
    expect(single.checks.overlaps!.value).toBe(t.overlaps);
    expect(t.overlaps, summary(single)).toBe(1);
    expect(t.overlapping.map(([a, b]) => [a.c, b.c])).toEqual([['client-1', 'client-2']]);
    // Both read the same counter and wrote it + 1: one increment lost, and no write was late
    // by the lease (the lock was lost, not expired).
    expect(single.checks.lost_updates!.value).toBe(t.lostUpdates);
    expect(t.lostUpdates).toBe(1);
    expect(single.checks.stale_writes!.value).toBe(0);
    // client-1's compare-and-delete found client-2's value, not its own, and deleted nothing.
    const [held] = t.overlapping[0]!;
    expect(t.records.find((x) => x.ev === 'release' && x.c === 'client-1' && x.t > held.t)?.del).toBe('none');

    const redlock = await run('redlock', fiveMasters, { windowMs: 7000, workload: longHolds, meanwhile: restartWhileClient1Holds(fiveMasters, started[1]!, 4000) });
    const rt = redlock.truth;
    // client-1's lock lives on in four masters of five: client-2 gets at most the restarted one,
    // no majority, and waits for client-1's release.
    expect(redlock.checks.overlaps!.value).toBe(rt.overlaps);
    expect(rt.overlaps, summary(redlock)).toBe(0);
    expect(redlock.checks.lost_updates!.value).toBe(0);
    expect(rt.lostUpdates).toBe(0);
    expect(rt.records.filter((x) => x.ev === 'release' && x.c === 'client-1').every((x) => x.del === 'own')).toBe(true);
    expect(rt.records.filter((x) => x.ev === 'hold' && x.c === 'client-2').length).toBeGreaterThanOrEqual(1);
  }, 60_000);

  it('flags watchdog and redlock alike with a client frozen past its lease', async () => {
    for (const strategy of ['watchdog', 'redlock'] as const) {
      const r = await run(strategy, strategy === 'redlock' ? fiveMasters : oneMaster, { meanwhile: freezeClient2 });
      expect(r.checks.overlaps!.value, `${strategy}: ${summary(r)}`).toBeGreaterThanOrEqual(1);
      expect(r.checks.overlaps!.value, strategy).toBe(r.truth.overlaps);
      expect(r.checks.stale_writes!.value, `${strategy}: ${summary(r)}`).toBeGreaterThanOrEqual(1);
      expect(r.checks.foreign_releases!.value, strategy).toBe(0);
    }
  }, 120_000);
});
