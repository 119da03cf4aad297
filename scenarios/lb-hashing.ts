import { defineScenario, haproxy, http, nginx } from '../harness/index.ts';

// 500 request keys (/recipes/0 … /recipes/499) hashed onto four backends. Backend 2 dies for
// 6 s and comes back. A consistent hash moves only the dead backend's quarter of the keys; a
// map-based (modulo) hash rebuilt over three backends moves most of them. nginx's plain hash
// keeps its server list and re-hashes only the requests that fail, so it moves about a quarter
// too: the SLA lines show which designs keep caches warm. nginx's passive checks try a failed
// backend again only after fail_timeout; 2 s here (default 10 s) so keys can go home within
// the run, as HAProxy's active checks (rise 2 × 1 s) let them.
export default defineScenario({
  name: 'lb-hashing',
  description: 'URI hashing vs consistent hashing when a backend leaves and returns: the fraction of keys remapped',
  designs: {
    'haproxy-uri-map': haproxy({ balance: 'uri', hashType: 'map-based', backends: 4 }),
    'haproxy-uri-consistent': haproxy({ balance: 'uri', hashType: 'consistent', backends: 4 }),
    'nginx-hash': nginx({ balance: 'hash', hashKey: '$request_uri', backends: 4, failTimeout: '2s' }),
    'nginx-hash-consistent': nginx({ balance: 'hash', hashKey: '$request_uri', consistent: true, backends: 4, failTimeout: '2s' }),
  },
  workload: http({ model: 'open', rate: 400, requests: [{ path: '/recipes/{key}', keys: 500 }], timeout: '5s' }),
  warmup: '2s',
  duration: '24s',
  faults: [
    { name: 'backend-2-out', at: '6s', for: '8s', service: 'backend-2', kill: 'SIGKILL' },
  ],
  sla: [
    { during: 'backend-2-out', check: 'remapped < 40%' },
    { after: 'backend-2-out', check: 'remapped < 5%' },
    { before: 'backend-2-out', check: 'p99 < 50ms' },
  ],
});
