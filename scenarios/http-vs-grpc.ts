import { defineScenario, recipeService, rpc } from '../harness/index.ts';

// One recipe service program, started the same way for both designs (both protocols served,
// nothing compressed), and the same open load of the same calls in the same order: only the
// protocol the load speaks differs. JSON over HTTP/1.1 (undici, a pool of keep-alive
// connections) against gRPC over HTTP/2 (grpc-js, one channel: every call multiplexed on one
// connection). Compare throughput, p50/p99 latency per call, the stream's time to its first
// and last item, and the service's CPU per call (JSON.stringify and HTTP/1.1 framing against
// protobuf encoding and HTTP/2 framing) at a small (1 KiB) and a large (16 KiB) document.
const service = recipeService({ protocol: 'both' });

export default defineScenario({
  name: 'http-vs-grpc',
  description: 'The same recipe service and the same open load of calls as JSON over HTTP/1.1 and as gRPC: throughput, p50/p99 per call at 1 KiB and 16 KiB documents, a streamed list\'s first and last item, and the service CPU each call costs',
  designs: {
    http: { ...service, protocol: 'http' },
    grpc: { ...service, protocol: 'grpc' },
  },
  workload: rpc({
    model: 'open',
    rate: 500,
    deadline: '2s',
    calls: [
      { name: 'recipe-1k', method: 'GetRecipe', args: { id: 7, size: 1024 }, weight: 6 },
      { name: 'recipe-16k', method: 'GetRecipe', args: { id: 8, size: 16_384 }, weight: 2 },
      { name: 'work-1ms', method: 'Work', args: { ms: 1, mode: 'cpu' }, weight: 1 },
      { name: 'list-20', method: 'ListRecipes', args: { count: 20, size: 512 }, weight: 1 },
    ],
  }),
  warmup: '3s',
  duration: '20s',
  sla: ['errors < 0.1%', 'p99 < 50ms', 'first_item p99 < 50ms'],
});
