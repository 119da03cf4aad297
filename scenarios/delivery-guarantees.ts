import { defineScenario, messaging, rabbitmq, withClient } from '../harness/index.ts';

// The same producers and consumers through three RabbitMQ designs, under a broker restart and,
// later, a consumer crash in the middle of a backlog. At most once (auto-ack, no confirms,
// transient queue) loses what the crashed consumer held in memory and what the restart took;
// at least once (confirms, durable queue, persistent messages, manual acks) loses nothing and
// pays with duplicates (the messages being processed at the crash come again) and latency; a
// quorum queue keeps the same promise on the replicated queue type.
export default defineScenario({
  name: 'delivery-guarantees',
  description: 'At most once vs at least once vs a quorum queue on RabbitMQ, under a broker restart and a consumer crash during a backlog: lost, duplicated, and what each promise costs',
  designs: {
    'at-most-once': withClient(rabbitmq(), { ack: 'auto', confirms: 'none' }),
    'at-least-once': withClient(rabbitmq(), { ack: 'manual', prefetch: 50, confirms: 'window', confirmWindow: 100, durable: true, persistent: true }),
    quorum: withClient(rabbitmq(), { queue: 'quorum', ack: 'manual', prefetch: 50, confirms: 'window', confirmWindow: 100, persistent: true }),
  },
  workload: messaging({
    model: 'open',
    producers: 2,
    consumers: 2,
    messageSize: 512,
    // Two consumers, two messages at a time each, 5 ms apiece: about 800 messages/s between them.
    processingTime: '5ms',
    concurrency: 2,
    rate: 300,
    // An overload from 20 s to 24 s (1,200/s) builds a backlog of about 1,600 messages: where it
    // waits (the consumer's memory with auto-ack, the broker with manual acks) decides what a
    // crash at 23 s loses.
    stages: [
      { duration: '20s', target: 300 },
      { duration: '200ms', target: 1200 },
      { duration: '3800ms', target: 1200 },
      { duration: '200ms', target: 300 },
    ],
    drainTimeout: '30s',
  }),
  warmup: '3s',
  duration: '40s',
  faults: [
    { name: 'broker-restart', at: '4s', service: 'rabbitmq', restart: true },
    { name: 'consumer-crash', at: '23s', for: '2s', client: 'consumer-1', crash: true },
  ],
  sla: [
    'lost == 0',
    'duplicated < 1%',
    { before: 'broker-restart', check: 'e2e p99 < 250ms' },
    { after: 'broker-restart', check: 'recovery < 15s', until: ['errors < 1%'] },
    'backlog < 10000',
  ],
});
