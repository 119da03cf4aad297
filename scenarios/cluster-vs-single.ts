import { defineScenario, http, httpService, nodeCluster } from '../harness/index.ts';

// CPU-bound requests at a rate one Node process cannot serve on its own: 220 req/s × 4 ms of
// CPU is 0.88 of a core before HTTP overhead, so one process queues while two workers share
// the work across both cores.
export default defineScenario({
  name: 'cluster-vs-single',
  description: 'One Node.js process vs node:cluster with 2 workers under the same open-model load of CPU-bound requests',
  designs: {
    single: httpService(),
    'cluster-2': nodeCluster({ workers: 2 }),
  },
  workload: http({ model: 'open', rate: 300, path: '/work?ms=4' }),
  warmup: '2s',
  duration: '20s',
  sla: ['p99 < 50ms', 'errors < 0.5%', 'throughput >= 280/s'],
});
