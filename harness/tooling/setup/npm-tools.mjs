// Installs the npm packages of harness/base/npm-tools.mjs into faultline's tool cache with the
// npm on PATH, building their native part from source. Plain JavaScript: the set-up runs it on
// the machine's older Node.
import { spawnSync } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { findNpmTool, npmToolDir, npmToolPackageDir } from '../../base/npm-tools.mjs';

/** @typedef {import('../../base/npm-tools.mjs').NpmTool} NpmTool */

/**
 * Node's C headers for the `node` on PATH, the one npm runs and so builds addons for. node-gyp
 * would download them, which fails where only package registries answer. Two layouts keep them
 * on the machine: the official tarball beside bin/ (`<prefix>/include/node`), and the npm
 * registry's `node` package (what the set-up installs) in its dependency
 * `node-<platform>-<arch>`.
 * @returns {{ dir: string, node: string } | { error: string }}
 */
export function nodeHeaders() {
  const r = spawnSync('node', ['-p', 'JSON.stringify([process.execPath, process.platform, process.arch])'], { encoding: 'utf8' });
  if (r.status !== 0) return { error: `could not run node to find its headers: ${r.error?.message ?? r.stderr.trim()}` };
  const [node, platform, arch] = /** @type {[string, string, string]} */ (JSON.parse(r.stdout));
  const prefix = dirname(dirname(node));
  const candidates = [prefix, join(prefix, 'node_modules', `node-${platform}-${arch}`)];
  const dir = candidates.find((d) => existsSync(join(d, 'include', 'node', 'node.h')));
  if (dir) return { dir, node };
  return {
    error: `Node's C headers (include/node/node.h) are not beside the node on PATH (${node}): looked in ${candidates.join(' and ')}; install Node from the npm registry (npm install -g node@22 brings them) or from an official tarball, which has include/`,
  };
}

/**
 * Installs the tool into its cache folder with `npm install`, building its native part, unless
 * it is there already; returns the package's folder. npm installs into a temporary folder
 * inside the cache first, whose node_modules is renamed into place once the build is there, so
 * an interrupted install leaves nothing that looks installed. npm's output goes to a log,
 * whose tail a failure shows.
 * @param {NpmTool} tool
 * @param {(line: string) => void} [say] told the command it runs
 * @returns {string}
 */
export function installNpmTool(tool, say = () => {}) {
  const found = findNpmTool(tool);
  if (found) return found;
  const headers = nodeHeaders();
  if ('error' in headers) throw new Error(`cannot build ${tool.package}: ${headers.error}`);
  const dir = npmToolDir(tool);
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, '.install-'));
  try {
    const spec = `${tool.package}@${tool.version}`;
    const args = ['install', '--prefix', tmp, '--no-audit', '--no-fund', '--no-update-notifier', spec];
    const env = { ...tool.env, npm_config_nodedir: headers.dir };
    say(`$ ${Object.entries(env).map(([k, v]) => `${k}=${v}`).join(' ')} npm ${args.join(' ')}  (builds from source for ${headers.node}: a few minutes)`);
    const logFile = join(tmp, 'npm-install.log');
    const log = openSync(logFile, 'w');
    let r;
    try {
      r = spawnSync('npm', args, { cwd: tmp, env: { ...process.env, ...env }, stdio: ['ignore', log, log] });
    } finally {
      closeSync(log);
    }
    if (r.error) throw new Error(`could not run npm: ${r.error.message}`);
    const built = join(tmp, 'node_modules', ...tool.package.split('/'), tool.built);
    if (r.status !== 0 || !existsSync(built)) {
      const output = readFileSync(logFile, 'utf8').trim().split('\n').slice(-20).join('\n');
      const what = r.status !== 0 ? `npm exited with ${r.status ?? r.signal}` : `npm built no ${tool.built}`;
      throw new Error(`${what} installing ${spec}:\n${output}`);
    }
    rmSync(join(dir, 'node_modules'), { recursive: true, force: true });
    renameSync(join(tmp, 'node_modules'), join(dir, 'node_modules'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return npmToolPackageDir(tool);
}
