import { SHARE_TALLY, type DriverDefinition } from '../driver.ts';
import { HTTP_ERROR_KINDS } from '../http-driver.ts';
import { rpcGrpcAdapter } from './rpc-grpc-adapter.ts';
import { rpcHttpAdapter } from './rpc-http-adapter.ts';
import { FIRST_ITEM, GRPC_STATUS_NAMES, ITEMS, LAST_ITEM } from './rpc-load.ts';
import { rpcWorkloadSchema, type RpcWorkload } from './rpc-workload.ts';

const grpcKinds = new RegExp(`^grpc_(${GRPC_STATUS_NAMES.slice(1).join('|')})$`);

/**
 * The `rpc` workload kind: the recipe service's named calls (unary, CPU or waiting work, a
 * server stream) with their arguments, the same mix for every design, as JSON over HTTP or as
 * gRPC.
 */
export const rpcDriver: DriverDefinition<RpcWorkload> = {
  description: "named calls of the recipe service (GetRecipe, Work, ListRecipes) with their arguments, the same mix over JSON/HTTP or gRPC; streams' first and last item timed",
  workload: rpcWorkloadSchema,
  wording: { one: 'call', many: 'calls' },
  vocabulary: {
    errorKinds: [
      ...HTTP_ERROR_KINDS,
      { name: 'grpc_<status>', description: 'a gRPC call ended with that status (grpc_unavailable, grpc_deadline_exceeded, grpc_resource_exhausted, …)', matches: grpcKinds },
    ],
    distributions: {
      [FIRST_ITEM]: { description: "streaming calls: time from the call's due time to its first item", better: 'lower' },
      [LAST_ITEM]: { description: "streaming calls that completed: time from the call's due time to its last item", better: 'lower' },
    },
    counters: { [ITEMS]: { description: 'items received by streaming calls (per second: items/s)', better: 'higher' } },
    tallies: { [SHARE_TALLY]: { description: 'calls per serving process (x-served-by header or gRPC metadata)' } },
  },
  adapters: { http: rpcHttpAdapter, grpc: rpcGrpcAdapter },
  keepsHistory: (w) => w.keepAnswers === true,
};
