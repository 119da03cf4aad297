import { defineScenario, idService, ids } from '../harness/index.ts';

// ID generators side by side: three instances each, the same open load of single-ID calls
// spread over them, and one fault for all: the clock of instance `id-1` steps back 2 s at 5 s
// (as an NTP step would) and stays there. Every ID handed out is kept and checked.
// - snowflake-wait waits until its clock is back where it was: no duplicate, a 2 s stall of
//   every call to id-1 (p99 and max latency).
// - snowflake-refuse answers 503 until then: no duplicate, the calls to id-1 fail for 2 s.
// - snowflake-unguarded takes the clock as it is: it replays 2 s of its own IDs.
// - snowflake-shared-worker: id-1 and id-2 given the same worker id (a deployment mistake):
//   duplicates whenever both issue in the same millisecond, fault or not.
// - sonyflake (10 ms units, waits like snowflake-wait) and uuidv7 (its counter seeded at random
//   each millisecond, so a replayed millisecond almost never repeats an ID; it waits too).
// - segment (ranges of 1,000 from a Redis counter, AOF every second) and redis-incr (one INCR
//   per call): no time in their IDs, so the clock changes nothing; one Redis round trip per
//   call shows in redis-incr's latency.
const jumpBack = { name: 'clock-back', at: '5s', service: 'id-1', clock: '-2s' } as const;

export default defineScenario({
  name: 'id-generators',
  description: 'Snowflake (waiting, refusing, unguarded, a shared worker id), sonyflake, UUIDv7, a Redis segment allocator and Redis INCR at the same call rate, with one instance\'s clock stepped back 2 s: duplicates and order counted exactly, and what waiting or refusing costs',
  designs: {
    'snowflake-wait': idService({ generator: 'snowflake', instances: 3, clockBack: 'wait' }),
    'snowflake-refuse': idService({ generator: 'snowflake', instances: 3, clockBack: 'refuse' }),
    'snowflake-unguarded': idService({ generator: 'snowflake', instances: 3, clockBack: 'none' }),
    'snowflake-shared-worker': idService({ generator: 'snowflake', instances: 3, workerIds: [1, 1, 3] }),
    sonyflake: idService({ generator: 'sonyflake', instances: 3 }),
    uuidv7: idService({ generator: 'uuidv7', instances: 3 }),
    segment: idService({ generator: 'segment', instances: 3, step: 1000, persistence: 'aof-everysec' }),
    'redis-incr': idService({ generator: 'redis-incr', instances: 3, persistence: 'aof-everysec' }),
  },
  workload: ids({ model: 'open', rate: 1500, batch: 1 }),
  warmup: '2s',
  duration: '15s',
  faults: [jumpBack],
  sla: [
    'duplicate_ids == 0',
    'non_monotonic == 0',
    'errors < 1%',
    { before: 'clock-back', check: 'p99 < 20ms' },
    { during: 'clock-back', check: 'p99 < 100ms' },
  ],
});
