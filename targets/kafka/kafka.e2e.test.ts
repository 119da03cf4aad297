import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel, Partitioners } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../../harness/runtime/local-runtime.ts';
import type { Endpoint, StartedService } from '../../harness/runtime/runtime.ts';
import { processesOfRun } from '../../harness/testing/processes.ts';
import { kafkaTarget } from './kafka.ts';

const MESSAGES = 100;
const TOPIC = 'orders';

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function client(ep: Endpoint): Kafka {
  return new Kafka({ clientId: 'kafka-e2e', brokers: [`${ep.host}:${ep.port}`], logLevel: logLevel.NOTHING, connectionTimeout: 3_000, requestTimeout: 10_000 });
}

async function createTopic(ep: Endpoint, topic: string, partitions: number): Promise<void> {
  const admin = client(ep).admin();
  try {
    await admin.connect();
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions, replicationFactor: 1 }], waitForLeaders: true, timeout: 10_000 });
  } finally {
    await admin.disconnect();
  }
}

async function produce(ep: Endpoint, topic: string, count: number): Promise<void> {
  const producer = client(ep).producer({ createPartitioner: Partitioners.DefaultPartitioner });
  try {
    await producer.connect();
    // Keyed, so the messages spread over every partition.
    await producer.send({ topic, acks: -1, messages: Array.from({ length: count }, (_, i) => ({ key: `k${i}`, value: String(i) })) });
  } finally {
    await producer.disconnect();
  }
}

/** Reads the topic from the beginning in a new consumer group until `want` messages came, or `withinMs` passed; returns their values. */
async function consumeAll(ep: Endpoint, topic: string, groupId: string, want: number, withinMs = 30_000): Promise<string[]> {
  const consumer = client(ep).consumer({ groupId, sessionTimeout: 6_000, heartbeatInterval: 500, maxWaitTimeInMs: 100 });
  const seen: string[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({ eachMessage: async ({ message }) => { seen.push(message.value?.toString() ?? ''); } });
    const deadline = Date.now() + withinMs;
    while (seen.length < want && Date.now() < deadline) await sleep(50);
    // A moment more, so a duplicate delivery would show up in the count.
    await sleep(500);
    return [...seen];
  } finally {
    await consumer.disconnect();
  }
}

const expected = Array.from({ length: MESSAGES }, (_, i) => String(i)).sort();

describe('kafka in the local runtime', () => {
  const runId = `kafka${process.pid}`;
  let runtime: LocalRuntime;
  let svc: StartedService;

  beforeAll(async () => {
    runtime = new LocalRuntime({ runId });
    const t0 = performance.now();
    svc = await runtime.start(kafkaTarget.topology({ heapMb: 256 }).services[0]!);
    process.stdout.write(`kafka: start to ready ${Math.round(performance.now() - t0)} ms\n`);
  }, 120_000);
  afterAll(async () => {
    await runtime.stopAll();
    expect(processesOfRun(runId)).toEqual([]);
  }, 60_000);

  it('runs one JVM (the script execs it) on loopback and records the version from the jar', () => {
    const pids = processesOfRun(runId);
    expect(pids.map(cmdline).filter((c) => c.includes('kafka.Kafka'))).toHaveLength(1);
    expect(pids.map(cmdline).filter((c) => c.startsWith('sh '))).toEqual([]);
    expect(svc.endpoint().host).toBe('127.0.0.1');
    expect(svc.program).toEqual({ name: 'kafka', version: '4.1.1' });
  });

  it('takes 100 messages on a topic of 3 partitions and gives all 100 back to a consumer group', async () => {
    await createTopic(svc.endpoint(), TOPIC, 3);
    const admin = client(svc.endpoint()).admin();
    try {
      await admin.connect();
      const [meta] = (await admin.fetchTopicMetadata({ topics: [TOPIC] })).topics;
      expect(meta?.partitions).toHaveLength(3);
    } finally {
      await admin.disconnect();
    }
    await produce(svc.endpoint(), TOPIC, MESSAGES);
    const got = await consumeAll(svc.endpoint(), TOPIC, 'first-readers', MESSAGES);
    expect(got).toHaveLength(MESSAGES);
    expect(got.sort()).toEqual(expected);
  }, 60_000);

  it('keeps the topic and its messages across a restart', async () => {
    const before = svc.endpoint();
    const t0 = performance.now();
    await svc.restart();
    process.stdout.write(`kafka: restart ${Math.round(performance.now() - t0)} ms\n`);
    expect(svc.endpoint()).toEqual(before);
    const got = await consumeAll(svc.endpoint(), TOPIC, 'after-restart', MESSAGES);
    expect(got).toHaveLength(MESSAGES);
    expect(got.sort()).toEqual(expected);
  }, 120_000);
});
