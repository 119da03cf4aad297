import type { Registries } from '../../scenario/validate-scenario.ts';
import { testMessagingDriver } from './test-messaging/test-messaging.ts';
import { testQueueTarget } from './test-queue/test-queue.ts';

export { testMessaging, type TestMessagingWorkload } from './test-messaging/test-messaging.ts';
export { testQueue, type TestQueueOptions } from './test-queue/test-queue.ts';

/**
 * The test kit's targets and workload kinds (enabled with FAULTLINE_TEST_KIT=1): small
 * instruments that exercise the engine's contracts end to end through the CLI (several
 * endpoints, advertised addresses, distributions, counters, tallies, gauges, history, drain,
 * checkers) until the real drivers do. Never offered to users otherwise.
 */
export const testKit = {
  targets: { 'test-queue': testQueueTarget },
  drivers: { 'test-messaging': testMessagingDriver },
} satisfies Registries;
