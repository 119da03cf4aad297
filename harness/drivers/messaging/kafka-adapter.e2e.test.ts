import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../base/endpoint.ts';
import { drive } from '../../testing/drive.ts';
import { localServiceForFile } from '../../testing/service-for-file.ts';
import { kafkaSpec } from '../../../targets/kafka/kafka.ts';
import { messagingDriver } from './messaging-driver.ts';
import { messaging } from './messaging-workload.ts';

/**
 * The truth these tests compare the driver and its checker with comes from the broker: the
 * topic's end offsets (how many messages it holds) and the group's committed offsets.
 */
async function withAdmin<T>(ep: Endpoint, use: (admin: ReturnType<Kafka['admin']>) => Promise<T>): Promise<T> {
  const admin = new Kafka({ clientId: 'test-truth', brokers: [`${ep.host}:${ep.port}`], logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Messages the topic holds, by the broker's end offsets. */
function held(ep: Endpoint, topic: string): Promise<number> {
  return withAdmin(ep, async (a) => (await a.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0));
}

/** Offsets the group committed, by partition (-1: none). */
function committed(ep: Endpoint, group: string): Promise<number[]> {
  return withAdmin(ep, async (a) => (await a.fetchOffsets({ groupId: group, topics: [group] }))[0]!.partitions.sort((x, y) => x.partition - y.partition).map((p) => Number(p.offset)));
}

describe('the messaging workload over Kafka against a real broker (KRaft)', () => {
  const broker = localServiceForFile('kfk', () => kafkaSpec());
  let ep: Endpoint;
  beforeAll(() => {
    ep = broker.service().endpoint();
  });

  it('delivers every message once, in order within each key, in batches the adapter gathers', async () => {
    const name = 'steady';
    const r = await drive(messagingDriver, 'kafka', [ep], messaging({ model: 'open', rate: 500, producers: 2, consumers: 2, keys: 8, messageSize: 256 }), { name, partitions: 4 }, { windowMs: 2000 });
    // 500/s for 2 s: the schedule's 1,000, as the topic's offsets count them.
    expect(await held(ep, name)).toBe(1000);
    expect(r.summary.totals.ok).toBe(1000);
    expect(r.summary.counters.consumed).toBe(1000);
    expect(r.drain?.complete).toBe(true);
    for (const c of ['lost', 'lost_unconfirmed', 'duplicated', 'reordered_in_key']) expect(r.checks[c]?.value, c).toBe(0);
    expect(Object.keys(r.summary.tallies.served_by ?? {}).sort()).toEqual(['consumer-1', 'consumer-2']);
  }, 60_000);

  it('counts as a duplicate exactly the message a crashed group member was processing, uncommitted, taken up again by its successor', async () => {
    const name = 'crash';
    // One partition, whose messages a member takes one at a time (the next after the last one's
    // processing ended and its offset was committed). Processing never ends within the test: the
    // member is processing the partition's first message when it crashes, nothing committed;
    // its successor starts the partition from the beginning and takes that message again.
    // (With several partitions, kafkajs fetches no more of any partition while one of the
    // fetched batches is still being processed, so how many are in processing at a crash
    // depends on which partitions the first fetch happened to bring.)
    const partitions = 1;
    const r = await drive(messagingDriver, 'kafka', [ep], messaging({ model: 'open', rate: 100, processingTime: '1h', drainTimeout: '1s' }), { name, partitions, autoCommit: false }, {
      windowMs: 1000,
      meanwhile: async (driver) => {
        await sleep(1500);
        await driver.crash!('consumer-1');
        await driver.revive!('consumer-1');
        // Its successor has joined; give it time to fetch every partition again.
        await sleep(5000);
      },
    });
    const total = await held(ep, name);
    expect(total).toBe(100);
    expect(await committed(ep, name)).toEqual([-1]);
    expect(r.checks.duplicated?.value).toBe(partitions);
    expect(r.checks.lost?.value).toBe(total - partitions);
  }, 90_000);
});
