import { fileURLToPath } from 'node:url';
import { posix } from 'node:path';
import type { z } from 'zod';
import { isCompiled } from '../harness/base/own-file.ts';
import type { ContainerContext, ContainerProcess, LocalContext, LocalProcess, Topology } from '../harness/runtime/service-spec.ts';

/**
 * A reusable builder for one kind of service: its options (validated at load time) and the
 * topology it starts for a design. Registered once in targets/index.ts.
 */
export interface TargetDefinition<Options> {
  name: string;
  /** One line for `faultline list` and docs. */
  description: string;
  options: z.ZodType<Options>;
  /** A fresh topology for these options; called at every start, never cached. */
  topology(options: Options): Topology;
}

/** The Node binary that runs faultline also runs its Node services. */
export const nodeProgram = {
  name: 'node',
  version: async () => process.version,
  versionArgs: ['--version'],
  parseVersion: (output: string) => /v\d+\.\d+\.\d+/.exec(output)?.[0],
};

/** Whether this module is compiled (the installed package) rather than the repository's TypeScript. */
const compiled = isCompiled(import.meta.url);

/** The targets folder: Node services' files keep their place under it inside a container. */
const targetsDir = fileURLToPath(new URL('.', import.meta.url));

/**
 * A Node service of a target, run by the host's Node locally and by the `node` image in a
 * container. `files` are the target's own source files (paths under targets/), the first the
 * entry; in a container they are copied to the same relative paths, so their imports resolve.
 */
export function nodeService(sources: readonly string[], env: (ctx: LocalContext) => Record<string, string>) {
  // Named by their TypeScript sources; the installed package runs their compiled `.js`.
  const files = compiled ? sources.map((f) => f.replace(/\.ts$/, '.js')) : sources;
  return {
    local: (ctx: LocalContext): LocalProcess => ({ command: process.execPath, args: [posix.join(targetsDir, files[0]!)], env: env(ctx) }),
    container: (ctx: ContainerContext): ContainerProcess => ({
      image: 'node',
      command: 'node',
      args: [posix.join(ctx.dir, 'targets', files[0]!)],
      env: env(ctx),
      files: { 'package.json': '{ "type": "module" }\n' },
      copy: Object.fromEntries(files.map((f) => [posix.join(ctx.dir, 'targets', f), posix.join(targetsDir, f)])),
    }),
  };
}
