import { setTimeout as sleep } from 'node:timers/promises';
import amqp from 'amqplib';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../base/endpoint.ts';
import { drive } from '../../testing/drive.ts';
import { localServiceForFile } from '../../testing/service-for-file.ts';
import { amqpUrl, rabbitmqSpec } from '../../../targets/rabbitmq/rabbitmq.ts';
import { messagingDriver } from './messaging-driver.ts';
import { messaging } from './messaging-workload.ts';

/**
 * The truth these tests compare the driver and its checker with comes from the broker, not
 * from the driver: an audit queue the test binds to the design's exchange receives a copy of
 * every message the broker accepted, and the broker's own count of messages still ready in
 * the work queue after the run.
 */
async function withChannel<T>(ep: Endpoint, use: (ch: amqp.Channel) => Promise<T>): Promise<T> {
  const conn = await amqp.connect(amqpUrl(ep), { noDelay: true });
  try {
    return await use(await conn.createChannel());
  } finally {
    await conn.close();
  }
}

/** Declares the design's exchange (as the driver will) with an audit queue bound to it. */
async function audit(ep: Endpoint, name: string): Promise<void> {
  await withChannel(ep, async (ch) => {
    await ch.assertExchange(name, 'direct', { durable: false });
    await ch.assertQueue(`${name}-audit`, { durable: false });
    await ch.bindQueue(`${name}-audit`, name, name);
  });
}

/** Messages ready (not delivered to any consumer) in a queue, as the broker counts them. */
function ready(ep: Endpoint, queue: string): Promise<number> {
  return withChannel(ep, async (ch) => (await ch.checkQueue(queue)).messageCount);
}

describe('the messaging workload over AMQP against a real RabbitMQ', () => {
  const broker = localServiceForFile('amqp', () => rabbitmqSpec());
  let ep: Endpoint;
  beforeAll(() => {
    ep = broker.service().endpoint();
  });

  it('delivers every message the broker accepted exactly once, through confirms and manual acks', async () => {
    const name = 'steady';
    await audit(ep, name);
    const r = await drive(messagingDriver, 'amqp', [ep], messaging({ model: 'open', rate: 400, producers: 2, consumers: 2, messageSize: 256 }), { name, confirms: 'window', ack: 'manual' }, { windowMs: 2000 });
    const accepted = await ready(ep, `${name}-audit`);
    // 400/s for 2 s with no warm-up: the schedule's 800, as the broker counted them.
    expect(accepted).toBe(800);
    expect(r.summary.totals.ok).toBe(accepted);
    expect(r.summary.counters.consumed).toBe(accepted);
    expect(r.drain?.complete).toBe(true);
    expect(await ready(ep, name)).toBe(0);
    for (const c of ['lost', 'lost_unconfirmed', 'duplicated', 'reordered_in_key']) expect(r.checks[c]?.value, c).toBe(0);
    expect(Object.keys(r.summary.distributions).sort()).toEqual(['e2e', 'publish_wait', 'send_lag']);
  }, 60_000);

  it('counts as lost exactly the messages an auto-ack consumer held in memory when it crashed', async () => {
    const name = 'at-most-once';
    await audit(ep, name);
    // Processing never ends within the test: the consumer starts exactly `concurrency` messages
    // and holds every other delivery in memory, which the broker has already forgotten.
    const concurrency = 3;
    const r = await drive(messagingDriver, 'amqp', [ep], messaging({ model: 'open', rate: 200, processingTime: '1h', concurrency, drainTimeout: '5s' }), { name, ack: 'auto', confirms: 'each' }, {
      windowMs: 1000,
      meanwhile: async (driver) => {
        await sleep(1500);
        await driver.crash!('consumer-1');
      },
    });
    const accepted = await ready(ep, `${name}-audit`);
    expect(accepted).toBe(200);
    // Auto-ack: the broker kept nothing back.
    expect(await ready(ep, name)).toBe(0);
    expect(r.checks.lost?.value).toBe(accepted - concurrency);
    expect(r.checks.duplicated?.value).toBe(0);
    expect(r.summary.counters.consumed).toBe(concurrency);
  }, 60_000);

  it('counts as duplicates exactly the messages a manual-ack consumer was processing when it crashed, redelivered to its successor', async () => {
    const name = 'at-least-once';
    await audit(ep, name);
    // With prefetch 5 the broker hands at most 5 unacknowledged messages to a consumer, and
    // processing never ends: the crashed consumer began exactly 5, its successor begins the same 5 again.
    const prefetch = 5;
    const r = await drive(messagingDriver, 'amqp', [ep], messaging({ model: 'open', rate: 100, processingTime: '1h', concurrency: prefetch, drainTimeout: '1s' }), { name, ack: 'manual', prefetch, confirms: 'window' }, {
      windowMs: 1000,
      meanwhile: async (driver) => {
        await sleep(1500);
        await driver.crash!('consumer-1');
        await driver.revive!('consumer-1');
        await sleep(500);
      },
    });
    const accepted = await ready(ep, `${name}-audit`);
    expect(accepted).toBe(100);
    expect(r.checks.duplicated?.value).toBe(prefetch);
    expect(r.drain?.complete).toBe(false);
    // Never consumed: what the broker holds ready after the run, less the 5 the successor began
    // (they went back to the queue unacknowledged when it closed).
    expect(r.checks.lost?.value).toBe((await ready(ep, name)) - prefetch);
    expect(r.checks.lost?.value).toBe(accepted - prefetch);
  }, 60_000);
});
