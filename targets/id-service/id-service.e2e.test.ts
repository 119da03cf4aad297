import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { idsDriver } from '../../harness/drivers/ids-driver.ts';
import { ids, type IdsWorkload } from '../../harness/drivers/ids-workload.ts';
import { LocalRuntime } from '../../harness/runtime/local-runtime.ts';
import type { StartedService } from '../../harness/runtime/runtime.ts';
import { drive, type Driven } from '../../harness/testing/drive.ts';
import { processesOfRun } from '../../harness/testing/processes.ts';
import { decodeSnowflake } from './generators.ts';
import { idServiceTarget, type IdServiceOptions } from './id-service.ts';

interface Seen {
  all: string[];
  /** Distinct IDs, by a plain Set. */
  distinct: number;
  /** IDs lower than the one an instance issued before them, read in the order each instance numbered them. */
  descents: number;
}

/** Every ID in a history file, counted the plain way (a Set, BigInt comparisons): the test's own count, not the checker's. */
async function idsIn(file: string): Promise<Seen> {
  const all: string[] = [];
  const byInstance = new Map<string, { n: number; ids: string[] }[]>();
  for await (const line of createInterface({ input: createReadStream(file) })) {
    const r = JSON.parse(line) as { ev?: string; i?: string; n?: number; ids?: string[] };
    if (r.ev !== 'ids') continue;
    all.push(...r.ids!);
    byInstance.set(r.i!, [...(byInstance.get(r.i!) ?? []), { n: r.n!, ids: r.ids! }]);
  }
  let descents = 0;
  for (const calls of byInstance.values()) {
    const ordered = calls.sort((a, b) => a.n - b.n).flatMap((c) => c.ids.map((id) => BigInt(id.includes('-') ? `0x${id.replaceAll('-', '')}` : id)));
    for (let k = 1; k < ordered.length; k++) if (ordered[k]! < ordered[k - 1]!) descents++;
  }
  return { all, distinct: new Set(all).size, descents };
}

const runId = `ids${process.pid}`;
let runtime: LocalRuntime;

beforeAll(() => {
  runtime = new LocalRuntime({ runId });
});

afterAll(async () => {
  await runtime.stopAll();
  expect(processesOfRun(runId)).toEqual([]);
});

/** Starts a design's instances, drives the workload at them, stops them; the history's IDs as the test reads them. */
async function run(options: IdServiceOptions, workload: IdsWorkload, windowMs = 1000, meanwhile?: (services: Map<string, StartedService>) => Promise<void>): Promise<Driven & { seen: Seen }> {
  const topology = idServiceTarget.topology(idServiceTarget.options.parse(options));
  const services: StartedService[] = [];
  try {
    for (const spec of topology.services) {
      // Links straight to the service they lead to (no fault proxy in these tests).
      const links = Object.fromEntries((topology.links ?? []).filter((l) => l.from === spec.name).map((l) => [l.name, services.find((s) => s.name === l.to)!.endpoint()]));
      services.push(await runtime.start(spec, { links }));
    }
    let seen: Seen = { all: [], distinct: 0, descents: 0 };
    const byName = new Map(services.map((s) => [s.name, s]));
    const endpoints = topology.entries[0]!.endpoints.map((e) => byName.get(e.service)!.endpoint());
    const r = await drive(idsDriver, 'http', endpoints, workload, {}, {
      windowMs,
      history: async (f) => void (seen = await idsIn(f)),
      ...(meanwhile ? { meanwhile: () => meanwhile(byName) } : {}),
    });
    return { ...r, seen };
  } finally {
    for (const s of services) await s.stop();
  }
}

describe('id-service', () => {
  it('hands out unique IDs in order from two snowflake workers, every one of them kept', async () => {
    const r = await run({ generator: 'snowflake', instances: 2 }, ids({ model: 'open', rate: 400, batch: 10 }));
    expect(r.summary.totals.errors).toBe(0);
    expect(r.seen.all.length).toBe(r.summary.counters.ids_issued);
    expect(r.seen.distinct).toBe(r.seen.all.length);
    expect(r.checks.duplicate_ids!.value).toBe(0);
    expect(r.checks.non_monotonic!.value).toBe(0);
    expect(r.checks.unreadable_ids!.value).toBe(0);
    // Each instance its own worker id (1 and 2), and each served half of the calls.
    expect(new Set(r.seen.all.map((id) => decodeSnowflake(id).workerId))).toEqual(new Set([1, 2]));
    expect(Object.keys(r.summary.tallies.served_by!).sort()).toEqual(['id-1', 'id-2']);
  }, 60_000);

  it('counts every duplicate two instances with the same worker id hand out', async () => {
    // Closed loops keep both instances busy in the same milliseconds, where equal worker ids
    // and sequences starting from 0 make the same IDs.
    const r = await run({ generator: 'snowflake', instances: 2, workerIds: [7, 7] }, ids({ model: 'closed', connections: 8, batch: 50 }));
    const duplicates = r.seen.all.length - r.seen.distinct;
    expect(duplicates).toBeGreaterThan(0);
    expect(r.checks.duplicate_ids!.value).toBe(duplicates);
    // Within one instance the order holds: the collision is across instances only.
    expect(r.checks.non_monotonic!.value).toBe(0);
  }, 60_000);

  it('shows the false duplicates of a client that reads IDs as JSON numbers', async () => {
    const r = await run({ generator: 'snowflake', jsonIds: 'number' }, ids({ model: 'open', rate: 200, batch: 20 }));
    // Consecutive snowflake IDs differ by 1; above 2^53 doubles are 256 apart at this size, so
    // neighbours round to the same number.
    const duplicates = r.seen.all.length - r.seen.distinct;
    expect(duplicates).toBeGreaterThan(0);
    expect(r.checks.duplicate_ids!.value).toBe(duplicates);
  }, 60_000);

  it('runs sonyflake and UUIDv7 with no duplicates and IDs whose time is the wall clock', async () => {
    for (const generator of ['sonyflake', 'uuidv7'] as const) {
      const r = await run({ generator, instances: 2 }, ids({ model: 'open', rate: 200, batch: 5 }));
      expect(r.summary.totals.errors, generator).toBe(0);
      expect(r.seen.distinct, generator).toBe(r.seen.all.length);
      expect(r.checks.duplicate_ids!.value, generator).toBe(0);
      expect(r.checks.non_monotonic!.value, generator).toBe(0);
      expect(r.checks.ids_ahead!.value, generator).toBe(0);
    }
  }, 60_000);

  describe('counter-based generators across a Redis restart', () => {
    // 1,000 IDs/s over two instances; the counter's Redis restarts halfway through the window.
    const load = ids({ model: 'open', rate: 200, batch: 5 });
    const restartRedis = async (services: Map<string, StartedService>) => {
      await sleep(1500);
      await services.get('redis')!.restart();
    };

    for (const generator of ['segment', 'redis-incr'] as const) {
      it(`${generator}: a Redis that kept its counter (AOF always) hands out no duplicates`, async () => {
        const r = await run({ generator, instances: 2, persistence: 'aof-always', ...(generator === 'segment' ? { step: 100 } : {}) }, load, 3000, restartRedis);
        expect(r.seen.all.length).toBeGreaterThan(2000);
        expect(r.seen.distinct).toBe(r.seen.all.length);
        expect(r.checks.duplicate_ids!.value).toBe(0);
      }, 60_000);

      it(`${generator}: a Redis that lost its counter hands out its numbers again, every duplicate counted`, async () => {
        const r = await run({ generator, instances: 2, persistence: 'none', ...(generator === 'segment' ? { step: 100 } : {}) }, load, 3000, restartRedis);
        const duplicates = r.seen.all.length - r.seen.distinct;
        expect(duplicates).toBeGreaterThan(0);
        expect(r.checks.duplicate_ids!.value).toBe(duplicates);
      }, 60_000);
    }
  });

  describe('a clock stepped under load (libfaketime, no help from the service)', () => {
    // 5,000 IDs/s from one instance; its wall clock steps at 1.5 s (back 1 s, or forward 3 s) and stays there.
    const load = ids({ model: 'open', rate: 500, batch: 10 });
    const stepBack = async (services: Map<string, StartedService>) => {
      await sleep(1500);
      await services.get('id-1')!.setClockOffset!(-1000);
    };

    it('unguarded: replays its own IDs, every duplicate and the one step down counted', async () => {
      const r = await run({ generator: 'snowflake', clockBack: 'none' }, load, 4000, stepBack);
      const duplicates = r.seen.all.length - r.seen.distinct;
      expect(duplicates).toBeGreaterThan(0);
      expect(r.checks.duplicate_ids!.value).toBe(duplicates);
      expect(r.seen.descents).toBe(1);
      expect(r.checks.non_monotonic!.value).toBe(1);
      expect(r.summary.totals.errors).toBe(0);
    }, 60_000);

    it('wait: no duplicate; calls wait until the clock is back where it was', async () => {
      const r = await run({ generator: 'snowflake', clockBack: 'wait' }, load, 4000, stepBack);
      expect(r.seen.distinct).toBe(r.seen.all.length);
      expect(r.checks.duplicate_ids!.value).toBe(0);
      expect(r.seen.descents).toBe(0);
      expect(r.checks.non_monotonic!.value).toBe(0);
      expect(r.summary.totals.errors).toBe(0);
      expect(r.summary.counters.clock_waits).toBeGreaterThan(0);
      // The call that met the jump waited for the clock to make up the second it lost.
      expect(r.summary.totals.latencyUs.max).toBeGreaterThanOrEqual(900_000);
    }, 60_000);

    it('a step forward: IDs borrow from the future, and the checker says by how much', async () => {
      const r = await run({ generator: 'snowflake', clockBack: 'wait' }, load, 4000, async (services) => {
        await sleep(1500);
        await services.get('id-1')!.setClockOffset!(3000);
      });
      expect(r.checks.duplicate_ids!.value).toBe(0);
      expect(r.checks.ids_ahead!.value).toBeGreaterThan(0);
      // The IDs' time ran 3 s ahead of the load generator's wall clock (less the answer's trip).
      expect(r.checks.id_ahead_max_ms!.value).toBeGreaterThan(2900);
      expect(r.checks.id_ahead_max_ms!.value).toBeLessThanOrEqual(3000);
    }, 60_000);

    it('refuse: no duplicate; calls fail until the clock is back where it was', async () => {
      const r = await run({ generator: 'snowflake', clockBack: 'refuse' }, load, 4000, stepBack);
      expect(r.seen.distinct).toBe(r.seen.all.length);
      expect(r.checks.duplicate_ids!.value).toBe(0);
      expect(r.checks.non_monotonic!.value).toBe(0);
      expect(r.summary.totals.errorsByKind.id_refused).toBeGreaterThan(0);
      expect(r.summary.totals.errors).toBe(r.summary.totals.errorsByKind.id_refused);
    }, 60_000);
  });
});
