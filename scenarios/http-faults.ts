import { defineScenario, http, httpService } from '../harness/index.ts';

// One service under steady open-model load while a fault timeline runs through it. Each fault
// has SLA lines that say what it should do, so a reader can check the harness against them.
export default defineScenario({
  name: 'http-faults',
  description: 'One HTTP service under a timeline of network and process faults: latency, a thin pipe, resets, a partition, a freeze and a crash',
  designs: {
    single: httpService(),
  },
  workload: http({
    model: 'open',
    rate: 100,
    requests: [
      { path: '/recipes/42', weight: 8 },
      { path: '/work?ms=2', weight: 1 },
      { path: '/payload?kb=256', weight: 1 },
    ],
    timeout: '5s',
  }),
  warmup: '2s',
  duration: '40s',
  faults: [
    { name: 'slow-link', at: '4s', for: '4s', link: 'client->service', latency: { latency: 100, jitter: 10 } },
    { name: 'thin-pipe', at: '10s', for: '4s', link: 'client->service', bandwidth: { rate: 500 } },
    { name: 'resets', at: '16s', for: '2s', link: 'client->service', reset_peer: { timeout: 0 } },
    { name: 'partition', at: '20s', for: '3s', link: 'client->service', down: true },
    { name: 'freeze', at: '26s', for: '2s', service: 'service', pause: true },
    { name: 'crash', at: '31s', for: '2s', service: 'service', kill: 'SIGKILL' },
  ],
  sla: [
    { before: 'slow-link', check: 'p99 < 50ms' },
    // 100 ms ± 10 ms on every response.
    { during: 'slow-link', check: 'p50 >= 90ms' },
    { during: 'slow-link', check: 'p50 < 150ms' },
    // 256 KiB at 500 KB/s takes half a second; one request in ten asks for it.
    { during: 'thin-pipe', check: 'p99 >= 400ms' },
    { during: 'resets', check: 'rate(reset) > 10%' },
    { during: 'partition', check: 'errors > 30%' },
    { after: 'partition', check: 'recovery < 2s', until: ['p99 < 100ms', 'errors < 1%'] },
    // Requests due during a 2 s freeze wait for it to end.
    { during: 'freeze', check: 'p99 >= 1.5s' },
    { after: 'freeze', check: 'recovery < 3s', until: ['p99 < 100ms', 'errors < 1%'] },
    { during: 'crash', check: 'errors > 30%' },
    { after: 'crash', check: 'recovery < 3s', until: ['p99 < 100ms', 'errors < 1%'] },
    'errors < 25%',
  ],
});
