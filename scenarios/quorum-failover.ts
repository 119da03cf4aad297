import { defineScenario, messaging, rabbitmq, withClient } from '../harness/index.ts';

// A three-node RabbitMQ cluster. Both queues are declared through node 1, which therefore holds
// the classic queue and leads the quorum queue; node 1 is then killed for 10 s. The quorum queue
// elects a leader among the two nodes left and carries on; the classic queue lives on node 1
// only, so nothing can be published to it or consumed from it until node 1 is back.
const client = { ack: 'manual', prefetch: 50, confirms: 'window', confirmWindow: 100, persistent: true } as const;

export default defineScenario({
  name: 'quorum-failover',
  description: 'A quorum queue vs a classic queue on a 3-node RabbitMQ cluster when the node holding them is killed for 10 s: availability, lost and duplicated messages',
  designs: {
    classic: withClient(rabbitmq({ nodes: 3 }), { ...client, queue: 'classic', durable: true }),
    quorum: withClient(rabbitmq({ nodes: 3 }), { ...client, queue: 'quorum' }),
  },
  workload: messaging({ model: 'open', rate: 300, producers: 3, consumers: 3, messageSize: 512, drainTimeout: '30s' }),
  warmup: '3s',
  duration: '45s',
  faults: [{ name: 'node-1-down', at: '8s', for: '10s', service: 'rabbitmq-1', kill: 'SIGKILL' }],
  sla: [
    'lost == 0',
    { during: 'node-1-down', check: 'errors < 5%' },
    { after: 'node-1-down', check: 'recovery < 5s', until: ['errors < 1%'] },
  ],
});
