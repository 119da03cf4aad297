/**
 * faultline's public entry for scenario files: `defineScenario`, the workload builders and the
 * target builders.
 */
export { defineScenario, type Scenario, type Workload, type Duration } from './scenario/scenario.ts';
export { http, type HttpWorkload, type OpenHttpWorkload, type ClosedHttpWorkload, type HttpRequestSpec } from './drivers/http-workload.ts';
export { messaging, type MessagingWorkload, type OpenMessagingWorkload, type ClosedMessagingWorkload } from './drivers/messaging/messaging-workload.ts';
export { ids, type IdsWorkload, type OpenIdsWorkload, type ClosedIdsWorkload } from './drivers/ids-workload.ts';
export { lock, type LockWorkload } from './drivers/lock/lock-workload.ts';
export type { LockStrategy } from './drivers/lock/lock-protocol.ts';
export type { RedisLockClientOptions } from './drivers/lock/lock-driver.ts';
export type { AmqpClientOptions } from './drivers/messaging/amqp-adapter.ts';
export { rpc, type RpcWorkload, type OpenRpcWorkload, type ClosedRpcWorkload, type RpcCallSpec } from './drivers/rpc/rpc-workload.ts';
export type { GrpcClientOptions } from './drivers/rpc/rpc-grpc-adapter.ts';
export { recipeService, type RecipeServiceOptions } from '../targets/index.ts';
export { httpService, nodeCluster, haproxy, nginx, rabbitmq, kafka, redis, idService, withClient, type DesignSpec } from '../targets/index.ts';
export { external, command, type ExternalOptions, type CommandOptions, type CommandReady } from '../targets/index.ts';
export { ExitCode } from './errors.ts';
export type { RunResult } from './result/result.ts';
