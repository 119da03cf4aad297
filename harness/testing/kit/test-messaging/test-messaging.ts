import { z } from 'zod';
import type { Duration } from '../../../base/duration.ts';
import { parseDuration } from '../../../base/duration.ts';
import { durationSchema } from '../../../base/schema-helpers.ts';
import { SHARE_TALLY, type DriverDefinition } from '../../../drivers/driver.ts';
import type { OpenLoad } from '../../../drivers/pacer.ts';
import { TQ_PROTOCOL } from '../test-queue/test-queue.ts';
import { deliveryChecker } from '../../../checkers/delivery.ts';
import { BACKLOG, CONSUMED, E2E, tqAdapter } from './tq-driver.ts';

/** The drain's deadline when the workload gives none. */
const DEFAULT_DRAIN = '5s';

/**
 * The test kit's messaging load (enabled with FAULTLINE_TEST_KIT=1): producers publish at an
 * open-model rate, a consumer takes everything, and the delivery checker counts what was lost,
 * duplicated or reordered.
 */
export interface TestMessagingWorkload extends OpenLoad {
  kind: 'test-messaging';
  model: 'open';
  /** Messages per second at the start (and during warm-up). */
  rate: number;
  /** How long the consumer may take to catch up after sending stopped. Default `5s`. */
  drainTimeout?: Duration;
}

/** Builds a test-messaging workload, e.g. `testMessaging({ model: 'open', rate: 200 })`. */
export function testMessaging<const W extends Omit<TestMessagingWorkload, 'kind'>>(w: W): W & { kind: 'test-messaging' } {
  return { kind: 'test-messaging', ...w };
}

const workloadSchema = z.strictObject({
  kind: z.literal('test-messaging'),
  model: z.literal('open'),
  rate: z.number().positive().max(100_000),
  stages: z.array(z.strictObject({ duration: durationSchema, target: z.number().min(0).max(100_000) })).optional(),
  maxInFlight: z.number().int().positive().max(1_000_000).optional(),
  drainTimeout: durationSchema.optional(),
});

/** The `test-messaging` workload kind: one adapter (`tq`), the delivery checker. */
export const testMessagingDriver: DriverDefinition<TestMessagingWorkload> = {
  description: 'test kit: publish and consume messages through a test queue, counting lost, duplicated and reordered ones',
  workload: workloadSchema,
  wording: { one: 'message', many: 'messages' },
  vocabulary: {
    errorKinds: [
      { name: 'timeout', description: 'no ack within 5 s' },
      { name: 'refused', description: 'connection refused' },
      { name: 'reset', description: 'connection reset or closed before the ack' },
      { name: 'other', description: 'any other failure' },
    ],
    distributions: {
      [E2E]: {
        description: "time from a message's intended send time to its first receipt by the consumer; both ends in the driver's one process, on its monotonic performance.now() clock",
        better: 'lower',
      },
    },
    counters: { [CONSUMED]: { description: 'distinct messages consumed (first receipts), by the time of receipt, drain included', better: 'higher' } },
    tallies: { [SHARE_TALLY]: { description: 'messages consumed per partition' } },
    gauges: { [BACKLOG]: { description: 'messages acked but not yet consumed (lost ones stay in it)', better: 'lower' } },
  },
  adapters: { [TQ_PROTOCOL]: tqAdapter },
  checkers: [deliveryChecker],
  drainMs: (w) => parseDuration(w.drainTimeout ?? DEFAULT_DRAIN)!,
};
