import type { TargetDefinition } from './target.ts';
import { httpServiceTarget } from './http-service/http-service.ts';
import { nodeClusterTarget } from './node-cluster/node-cluster.ts';
import { haproxyTarget } from './haproxy/haproxy.ts';
import { nginxTarget } from './nginx/nginx.ts';
import { rabbitmqTarget } from './rabbitmq/rabbitmq.ts';
import { kafkaTarget } from './kafka/kafka.ts';
import { redisTarget } from './redis/redis.ts';
import { idServiceTarget } from './id-service/id-service.ts';
import { externalTarget } from './external/external.ts';
import { commandTarget } from './command/command.ts';
import { recipeServiceTarget } from './recipe-service/recipe-service.ts';

export { httpService } from './http-service/http-service.ts';
export { nodeCluster } from './node-cluster/node-cluster.ts';
export { haproxy } from './haproxy/haproxy.ts';
export { nginx } from './nginx/nginx.ts';
export { rabbitmq } from './rabbitmq/rabbitmq.ts';
export { kafka } from './kafka/kafka.ts';
export { redis } from './redis/redis.ts';
export { idService } from './id-service/id-service.ts';
export { external, type ExternalOptions } from './external/external.ts';
export { command, type CommandOptions, type CommandReady } from './command/command.ts';
export { recipeService, type RecipeServiceOptions } from './recipe-service/recipe-service.ts';

// Each entry keeps its own options type; the registry only checks that every entry is a target.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyTarget = TargetDefinition<any>;

/** Every target, by name. Adding one: its folder, its test, one line here, one README row. */
export const targets = {
  'http-service': httpServiceTarget,
  'node-cluster': nodeClusterTarget,
  haproxy: haproxyTarget,
  nginx: nginxTarget,
  rabbitmq: rabbitmqTarget,
  kafka: kafkaTarget,
  redis: redisTarget,
  'id-service': idServiceTarget,
  external: externalTarget,
  command: commandTarget,
  'recipe-service': recipeServiceTarget,
} satisfies Record<string, AnyTarget>;

export type TargetName = keyof typeof targets;

/** A design: which target and its options, as plain data (what result.json records). */
export interface DesignSpec {
  target: TargetName;
  options?: unknown;
  /** Which of its target's protocols the load speaks to it, when it speaks several. Default: the first the workload has an adapter for. */
  protocol?: string;
  /**
   * Client settings that belong to this design rather than to the load, handed to the
   * workload's adapter for its protocol and recorded in result.json, e.g. `{ pipelining: 4 }`
   * for HTTP. Checked at load time by that adapter.
   */
  client?: Record<string, unknown>;
}

/** The same design with client settings for its adapter: `withClient(httpService(), { pipelining: 4 })`. */
export function withClient<const D extends DesignSpec>(design: D, client: Record<string, unknown>): D & { client: Record<string, unknown> } {
  return { ...design, client };
}
