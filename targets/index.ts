import type { TargetDefinition } from './target.ts';
import { httpServiceTarget } from './http-service/http-service.ts';
import { nodeClusterTarget } from './node-cluster/node-cluster.ts';
import { haproxyTarget } from './haproxy/haproxy.ts';
import { nginxTarget } from './nginx/nginx.ts';

export { httpService } from './http-service/http-service.ts';
export { nodeCluster } from './node-cluster/node-cluster.ts';
export { haproxy } from './haproxy/haproxy.ts';
export { nginx } from './nginx/nginx.ts';

// Each entry keeps its own options type; the registry only checks that every entry is a target.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type AnyTarget = TargetDefinition<any>;

/** Every target, by name. Adding one: its folder, its test, one line here, one README row. */
export const targets = {
  'http-service': httpServiceTarget,
  'node-cluster': nodeClusterTarget,
  haproxy: haproxyTarget,
  nginx: nginxTarget,
} satisfies Record<string, AnyTarget>;

export type TargetName = keyof typeof targets;

/** A design: which target and its options, as plain data (what result.json records). */
export interface DesignSpec {
  target: TargetName;
  options?: unknown;
}
