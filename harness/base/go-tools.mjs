// Programs faultline builds from their Go modules with `go install`, pinned, into its own tool
// cache (so nothing lands on the system PATH). Plain JavaScript: the set-up runs it on the
// machine's older Node, and the harness finds the binaries through the same functions.
import { existsSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, join } from 'node:path';

/**
 * @typedef {object} GoTool
 * @property {string} command the name looked up on PATH first
 * @property {string} module the Go package and pinned version for `go install`
 * @property {string} binary the name `go install` gives the binary
 * @property {string} version
 * @property {string} purpose
 */

/** @type {ReadonlyArray<GoTool>} */
export const goTools = [
  {
    command: 'toxiproxy-server',
    module: 'github.com/Shopify/toxiproxy/v2/cmd/server@v2.12.0',
    binary: 'server',
    version: '2.12.0',
    purpose: 'network faults on links (the local runtime)',
  },
  {
    command: 'vegeta',
    module: 'github.com/tsenart/vegeta/v12@v12.13.0',
    binary: 'vegeta',
    version: '12.13.0',
    purpose: 'an independent open-model HTTP load generator, ground truth for npm run bench:truth',
  },
  {
    command: 'ghz',
    module: 'github.com/bojand/ghz/cmd/ghz@v0.93.0',
    binary: 'ghz',
    version: '0.93.0',
    purpose: "the gRPC load generator npm run bench:grpc compares faultline's gRPC client with",
  },
];

/** faultline's tool cache: `$FAULTLINE_TOOLS`, else `$XDG_CACHE_HOME/faultline/tools`, else `~/.cache/faultline/tools`. */
export function toolCacheDir() {
  if (process.env.FAULTLINE_TOOLS) return process.env.FAULTLINE_TOOLS;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'faultline', 'tools');
}

/**
 * Where a Go tool's binary is installed in the cache (one folder per pinned version).
 * @param {GoTool} tool
 */
export function cachedBinary(tool) {
  return join(toolCacheDir(), `${tool.command}-${tool.version}`, tool.binary);
}

/**
 * The tool's path: on PATH by its command name, else in the cache; undefined when neither.
 * @param {GoTool} tool
 * @returns {string | undefined}
 */
export function findGoTool(tool) {
  for (const dir of (process.env.PATH ?? '').split(delimiter)) {
    const p = join(dir, tool.command);
    if (dir && existsSync(p)) return p;
  }
  const cached = cachedBinary(tool);
  return existsSync(cached) ? cached : undefined;
}
