import { defineScenario, haproxy, nginx, rpc, withClient } from '../harness/index.ts';

const backends = { backends: 3, backendTarget: 'recipe-service' } as const;

// One gRPC channel (one HTTP/2 connection) of unary calls through three balancers in front of
// the same three recipe-service backends. HAProxy in TCP mode balances connections: the
// channel's one connection lands on one backend, which then serves every call. HAProxy in
// HTTP/2 mode and nginx's grpc_pass end the client's connection and balance each call (each
// HTTP/2 stream) over their own connections to the backends: a third each.
//
// Backend 2 is killed for 4 s. Calls in flight on it fail as UNAVAILABLE. Under TCP mode the
// channel, if it was on backend 2, reconnects; HAProxy accepts the connection at once and only
// then picks a backend, which may be backend 2 again until its check marks it down (the calls
// on the channel then wait out HAProxy's retries and overrun their deadline). Wherever the
// channel lands once the backends are all up, it stays for the rest of the run: the load does
// not spread again while the channel lives. The
// call-level balancers stop sending it calls and give it its third again once it is back:
// nginx at the first refused connect, retrying that call on the next backend; HAProxy (its
// defaults: no redispatch, 3 retries on the same server) only once its active TCP check marks
// the backend down (2 failures 1 s apart), and until then each call sent there waits out those
// retries and overruns its 1 s deadline (`grpc_deadline_exceeded`). Back up: HAProxy after 2
// good checks, nginx after `failTimeout`.
//
// A link fault with `toxicity` below 1 does not act per call: Toxiproxy draws toxicity once per
// connection, and one channel is one connection, so on the client link a 30 % toxic hits either
// every call or none. With many channels (client option `channels`) it hits about that share of
// the connections, and so of the calls. Behind a balancer the backend connections are few too
// (HAProxy in HTTP/2 mode multiplexes its calls to a backend on one connection), so a partial
// fault there is better a whole one on one backend's link (`lb->backend-2`): under call-level
// balancing a third of the calls cross it; under TCP mode all of them or none.
export default defineScenario({
  name: 'grpc-balancing',
  description: 'Connection- vs call-level balancing of one gRPC channel across 3 backends (HAProxy TCP, HAProxy HTTP/2, nginx grpc_pass), with a backend killed for 4 s',
  designs: {
    'haproxy-tcp': withClient(haproxy({ ...backends, mode: 'tcp' }), { channels: 1 }),
    'haproxy-h2': withClient(haproxy({ ...backends, mode: 'h2' }), { channels: 1 }),
    // failTimeout 1s: nginx tries a failed backend again a second after it failed, as HAProxy's check would.
    'nginx-grpc': withClient(nginx({ ...backends, failTimeout: '1s' }), { channels: 1 }),
  },
  workload: rpc({
    model: 'open',
    rate: 300,
    deadline: '1s',
    calls: [{ name: 'recipe-1k', method: 'GetRecipe', args: { id: 7, size: 1024 } }],
  }),
  warmup: '3s',
  duration: '20s',
  faults: [{ name: 'backend-2-killed', at: '6s', for: '4s', service: 'backend-2', kill: 'SIGKILL' }],
  sla: [
    'errors < 1%',
    // The calls in flight on backend 2 when it dies (and, in TCP mode, those sent before the channel reconnects).
    'rate(grpc_unavailable) < 1%',
    'count(grpc_deadline_exceeded) == 0',
    'p99 < 200ms',
    // Call-level balancing gives each backend a third; connection-level gives one backend all.
    { before: 'backend-2-killed', check: 'share(backend-1) > 28%' },
    { before: 'backend-2-killed', check: 'share(backend-2) > 28%' },
    { before: 'backend-2-killed', check: 'share(backend-3) > 28%' },
    { during: 'backend-2-killed', check: 'share(backend-2) < 5%' },
    { after: 'backend-2-killed', check: 'recovery < 3s', until: ['errors < 0.5%'] },
    // Back after the restart: a call-level balancer sends it calls again; a pinned channel does not.
    { after: 'backend-2-killed', check: 'share(backend-2) > 10%' },
  ],
});
