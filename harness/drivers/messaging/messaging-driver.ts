import { parseDuration } from '../../base/duration.ts';
import { deliveryChecker } from '../../checkers/delivery.ts';
import { SHARE_TALLY, type DriverDefinition } from '../driver.ts';
import { amqpAdapter } from './amqp-adapter.ts';
import { kafkaAdapter } from './kafka-adapter.ts';
import { BACKLOG, CONSUMED, E2E, PUBLISH_WAIT } from './messaging-load.ts';
import { messagingWorkloadSchema, type MessagingWorkload } from './messaging-workload.ts';

/** The `messaging` workload kind: producers and consumers through a broker, every message accounted for by the delivery checker. */
export const messagingDriver: DriverDefinition<MessagingWorkload> = {
  description: 'publish and consume messages through a broker: publish and end-to-end latency, backlog, and every message lost, duplicated or reordered counted exactly',
  workload: messagingWorkloadSchema,
  wording: { one: 'message', many: 'messages' },
  vocabulary: {
    errorKinds: [
      { name: 'timeout', description: 'no acknowledgement within the publish timeout' },
      { name: 'refused', description: 'the broker refused the connection' },
      { name: 'reset', description: 'the connection or channel closed before the acknowledgement' },
      { name: 'nack', description: 'the broker refused the message (negative acknowledgement)' },
      { name: 'kafka_<error>', description: "a Kafka broker's error for the request, e.g. kafka_not_leader_or_follower, kafka_not_enough_replicas", matches: /^kafka_[a-z_]+$/ },
      { name: 'other', description: 'any other failure' },
    ],
    distributions: {
      [E2E]: {
        description: "time from a message's due send time to the start of its first processing by a consumer; producers and consumers run in the driver's one process, on its monotonic performance.now() clock",
        better: 'lower',
      },
      [PUBLISH_WAIT]: {
        description: 'time from a message\'s due send time until the client library took it: waiting for the confirm window, back-pressure or a reconnect (part of the publish latency)',
        better: 'lower',
      },
    },
    counters: { [CONSUMED]: { description: 'distinct messages consumed (first receipts), by the time of receipt, drain included', better: 'higher' } },
    tallies: { [SHARE_TALLY]: { description: 'messages consumed per consumer' } },
    gauges: { [BACKLOG]: { description: 'messages acknowledged to producers but not yet consumed (lost ones stay in it)', better: 'lower' } },
  },
  adapters: { amqp: amqpAdapter, kafka: kafkaAdapter },
  checkers: [deliveryChecker],
  drainMs: (w) => parseDuration(w.drainTimeout ?? '10s')!,
  clients: (w) => Array.from({ length: w.consumers ?? 1 }, (_, i) => `consumer-${i + 1}`),
};
