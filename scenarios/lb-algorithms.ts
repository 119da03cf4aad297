import { defineScenario, haproxy, http, nginx, nodeCluster } from '../harness/index.ts';

const balancers = ['haproxy-roundrobin', 'haproxy-leastconn', 'nginx-round_robin', 'nginx-least_conn'];

// Three backends behind each balancer (node:cluster: three workers) under the same mix of CPU
// and waiting requests. Backend 1's link turns slow for 10 s; later backend 2 dies and comes
// back. Round robin keeps sending a third of the requests to the slow backend; least
// connections notices the requests piling up there. HAProxy (active checks, no redispatch: its
// defaults) answers 503 until its check marks the dead backend down; nginx (passive checks)
// retries each failed request on the next backend.
export default defineScenario({
  name: 'lb-algorithms',
  description: 'Round robin vs least connections in HAProxy, nginx and node:cluster when one backend turns slow and another dies',
  designs: {
    'haproxy-roundrobin': haproxy({ balance: 'roundrobin', backends: 3 }),
    'haproxy-leastconn': haproxy({ balance: 'leastconn', backends: 3 }),
    'nginx-round_robin': nginx({ balance: 'round_robin', backends: 3 }),
    'nginx-least_conn': nginx({ balance: 'least_conn', backends: 3 }),
    'node-cluster': nodeCluster({ workers: 3 }),
  },
  workload: http({
    model: 'open',
    rate: 300,
    requests: [
      { path: '/work?ms=2', weight: 1 },
      { path: '/io?ms=20', weight: 1 },
    ],
    timeout: '5s',
  }),
  warmup: '3s',
  duration: '40s',
  faults: [
    { name: 'slow-backend-1', at: '4s', for: '10s', link: 'lb->backend-1', latency: { latency: 200 }, designs: balancers },
    { name: 'backend-2-killed', at: '16s', service: 'backend-2', kill: 'SIGKILL', designs: balancers },
    { name: 'backend-2-back', at: '34s', service: 'backend-2', restart: true, designs: balancers },
  ],
  sla: [
    'p99 < 300ms',
    'errors < 2%',
    { before: 'slow-backend-1', check: 'p99 < 50ms' },
    // Round robin gives the slow backend its third; least connections much less.
    { during: 'slow-backend-1', check: 'share(backend-1) < 25%' },
    { during: 'slow-backend-1', check: 'p75 < 100ms' },
    // From the kill until errors stop and p99 is back under 100 ms: active checks need a
    // couple of intervals; nginx's retry on the next backend hides the kill at once.
    { after: 'backend-2-killed', check: 'recovery < 500ms', until: ['p99 < 100ms', 'errors < 0.5%'] },
    // Active checks re-admit the restarted backend after `rise` checks; passive ones only
    // after fail_timeout (10 s) has passed since its last failure.
    { after: 'backend-2-back', check: 'share(backend-2) > 10%' },
  ],
});
