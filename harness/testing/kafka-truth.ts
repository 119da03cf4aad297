import { Kafka, logLevel, type Admin } from 'kafkajs';
import type { Endpoint } from '../base/endpoint.ts';

/**
 * An admin client of the brokers at `eps` for `use`, disconnected after it: how tests and
 * benchmarks read the truth they check faultline's counts against (a topic's end offsets, a
 * group's committed offsets, partition leaders), from the broker and not from the driver.
 */
export async function withKafkaAdmin<T>(eps: Endpoint | readonly Endpoint[], use: (admin: Admin) => Promise<T>): Promise<T> {
  const brokers = (Array.isArray(eps) ? eps : [eps]).map((e: Endpoint) => `${e.host}:${e.port}`);
  const admin = new Kafka({ clientId: 'faultline-truth', brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3_000, requestTimeout: 10_000 }).admin();
  await admin.connect();
  try {
    return await use(admin);
  } finally {
    await admin.disconnect();
  }
}

/** Messages a topic holds, by its partitions' end offsets. */
export function topicHolds(eps: Endpoint | readonly Endpoint[], topic: string): Promise<number> {
  return withKafkaAdmin(eps, async (a) => (await a.fetchTopicOffsets(topic)).reduce((n, p) => n + Number(p.high) - Number(p.low), 0));
}
