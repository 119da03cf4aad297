import { describe, expect, it } from 'vitest';
import { idsWorkloadSchema } from '../../harness/drivers/ids-workload.ts';
import { idServiceOptions, idServiceTarget, instanceGenerator } from './id-service.ts';

function problems(options: unknown): string[] {
  const r = idServiceOptions.safeParse(options);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('id-service options', () => {
  it('accepts each generator with its own options', () => {
    expect(problems({ generator: 'snowflake', instances: 3, workerIds: [1, 2, 2], clockBack: 'none', epochMs: 0 })).toEqual([]);
    expect(problems({ generator: 'sonyflake', instances: 1, workerIds: [65535] })).toEqual([]);
    expect(problems({ generator: 'uuidv7', clockBack: 'refuse' })).toEqual([]);
    expect(problems({ generator: 'segment', step: 500 })).toEqual([]);
    expect(problems({ generator: 'redis-incr', instances: 2 })).toEqual([]);
  });

  it('names the field and what to do', () => {
    expect(problems({ generator: 'snowflake', instances: 2, workerIds: [1] })).toEqual(['workerIds: give one worker id per instance: 2 instance(s), 1 id(s)']);
    expect(problems({ generator: 'snowflake', workerIds: [1024] })).toEqual(['workerIds: a snowflake worker id is at most 1023']);
    expect(problems({ generator: 'segment', clockBack: 'wait' })[0]).toMatch(/^clockBack: segment IDs carry no time/);
    expect(problems({ generator: 'uuidv7', workerIds: [1] })[0]).toMatch(/^workerIds: workerIds belong to snowflake and sonyflake/);
    expect(problems({ generator: 'redis-incr', step: 10 })).toEqual(['step: step belongs to segment, not redis-incr']);
    expect(problems({ generator: 'flake' })[0]).toMatch(/^generator: /);
    expect(problems({ generator: 'snowflake', instances: 17 })[0]).toMatch(/^instances: /);
  });

  it('gives instances worker ids 1..N by default, or the ones given', () => {
    const o = idServiceOptions.parse({ generator: 'snowflake', instances: 2 });
    expect([0, 1].map((k) => instanceGenerator(o, k))).toEqual([
      { kind: 'snowflake', workerId: 1, clockBack: 'wait' },
      { kind: 'snowflake', workerId: 2, clockBack: 'wait' },
    ]);
    expect(instanceGenerator(idServiceOptions.parse({ generator: 'sonyflake', workerIds: [9], clockBack: 'none' }), 0)).toEqual({ kind: 'sonyflake', machineId: 9, clockBack: 'none' });
  });

  it('starts one service per instance, each an endpoint of the entry', () => {
    const t = idServiceTarget.topology(idServiceOptions.parse({ generator: 'uuidv7', instances: 3 }));
    expect(t.services.map((s) => s.name)).toEqual(['id-1', 'id-2', 'id-3']);
    expect(t.entries).toEqual([{ protocol: 'http', endpoints: ['id-1', 'id-2', 'id-3'].map((service) => ({ service, port: 'http' })) }]);
  });

  it('puts a Redis server first for the counter-based generators, each instance on its own link to it', () => {
    const t = idServiceTarget.topology(idServiceOptions.parse({ generator: 'segment', instances: 2, persistence: 'aof-always' }));
    expect(t.services.map((s) => s.name)).toEqual(['redis', 'id-1', 'id-2']);
    expect(t.links).toEqual([
      { name: 'id-1->redis', from: 'id-1', to: 'redis' },
      { name: 'id-2->redis', from: 'id-2', to: 'redis' },
    ]);
    expect(problems({ generator: 'snowflake', persistence: 'none' })[0]).toMatch(/^persistence: /);
  });
});

describe('ids workload', () => {
  it('validates batch and model', () => {
    expect(idsWorkloadSchema.safeParse({ kind: 'ids', model: 'open', rate: 100, batch: 10 }).success).toBe(true);
    expect(idsWorkloadSchema.safeParse({ kind: 'ids', model: 'closed', connections: 4 }).success).toBe(true);
    const bad = idsWorkloadSchema.safeParse({ kind: 'ids', model: 'open', rate: 100, batch: 10_001 });
    expect(bad.error?.issues.map((i) => i.path.join('.'))).toEqual(['batch']);
    expect(idsWorkloadSchema.safeParse({ kind: 'ids', model: 'closed' }).error?.issues.map((i) => i.path.join('.'))).toEqual(['connections']);
  });
});
