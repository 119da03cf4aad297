import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { dirname, join, posix } from 'node:path';
import { FaultlineError } from '../harness/errors.ts';
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
 * `packages` are npm packages the service imports: in a container each one's folder and its
 * dependencies' (as this installation resolved them) are copied into a node_modules beside it.
 */
export function nodeService(sources: readonly string[], env: (ctx: LocalContext) => Record<string, string>, opts: { packages?: readonly string[] } = {}) {
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
      copy: {
        ...Object.fromEntries(files.map((f) => [posix.join(ctx.dir, 'targets', f), posix.join(targetsDir, f)])),
        ...Object.fromEntries(packageFiles(opts.packages ?? []).map(([rel, host]) => [posix.join(ctx.dir, rel), host])),
      },
    }),
  };
}

/** Files a package needs at run time: not its types, source maps, docs or TypeScript sources. */
const buildOnly = /\.([cm]?ts|map|md)$/i;

const packageFileCache = new Map<string, [string, string][]>();

/**
 * The files of `names` and of every package they depend on, each as [its path in a container,
 * relative to the service's dir; its path here]. Each package is found as Node finds it (the
 * nearest node_modules up from the one that needs it) and placed where Node, starting from the
 * service's files under `targets/`, finds it again: hoisted ones at the top, nested ones nested.
 */
function packageFiles(names: readonly string[]): [string, string][] {
  const key = names.join(',');
  const cached = packageFileCache.get(key);
  if (cached) return cached;
  const placed = new Map<string, string>();
  const place = (name: string, fromHost: string, fromContainer: string, optional: boolean): void => {
    let host = fromHost;
    let inContainer = fromContainer;
    for (;;) {
      const dir = join(host, 'node_modules', name);
      if (existsSync(join(dir, 'package.json'))) {
        if (placed.has(dir) || name.startsWith('@types/')) return;
        const at = posix.join(inContainer, 'node_modules', name);
        placed.set(dir, at);
        const manifest = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { dependencies?: Record<string, string>; optionalDependencies?: Record<string, string> };
        for (const dep of Object.keys(manifest.dependencies ?? {})) place(dep, dir, at, false);
        for (const dep of Object.keys(manifest.optionalDependencies ?? {})) place(dep, dir, at, true);
        return;
      }
      const up = dirname(host);
      if (up === host) {
        if (optional) return;
        throw new FaultlineError('target-start', `package '${name}' (needed from ${fromHost}) is not installed`, { hint: 'run npm install in the faultline installation' });
      }
      host = up;
      // Above the container's top folder the lookup stays there: a package hoisted higher here is copied to the top.
      const parent = posix.dirname(inContainer);
      inContainer = parent === '.' ? '' : parent;
    }
  };
  for (const name of names) place(name, targetsDir, 'targets', false);
  const out: [string, string][] = [];
  const walk = (dir: string, at: string): void => {
    for (const e of readdirSync(dir, { withFileTypes: true })) {
      if (e.isDirectory()) {
        if (e.name !== 'node_modules') walk(join(dir, e.name), posix.join(at, e.name));
      } else if (e.isFile() && !buildOnly.test(e.name)) out.push([posix.join(at, e.name), join(dir, e.name)]);
    }
  };
  for (const [dir, at] of placed) walk(dir, at);
  packageFileCache.set(key, out);
  return out;
}
