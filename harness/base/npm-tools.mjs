// npm packages faultline installs, pinned, into its own tool cache rather than into a project's
// node_modules: optional clients with a native part that builds from source on the machine (a
// compiler and a few minutes), which a project that never uses them should not pay for. Plain
// JavaScript: the set-up runs it on the machine's older Node, and the harness finds the
// packages through the same functions.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { toolCacheDir } from './go-tools.mjs';

/**
 * @typedef {object} NpmTool
 * @property {string} name the cache folder's name, before `-<version>`
 * @property {string} package the npm package
 * @property {string} version pinned
 * @property {string} built a file inside the package's folder that exists only once its native
 *   part was built: the package counts as installed when it is there
 * @property {Readonly<Record<string, string>>} env set for `npm install` (how its build links)
 * @property {string} purpose
 */

/** @type {ReadonlyArray<NpmTool>} */
export const npmTools = [
  {
    name: 'confluent-kafka-javascript',
    package: '@confluentinc/kafka-javascript',
    version: '1.10.1',
    built: 'build/Release/confluent-kafka-javascript.node',
    // Its install falls back to building from source when no prebuilt binary can be
    // downloaded: the librdkafka it bundles, as a shared library beside the addon (linked
    // statically, the build fails).
    env: { CKJS_LINKING: 'dynamic' },
    purpose: "librdkafka's producer for Kafka designs with client: 'confluent'",
  },
];

/**
 * The tool's folder in the cache: `<cache>/<name>-<version>`, the package in its node_modules.
 * @param {NpmTool} tool
 */
export function npmToolDir(tool) {
  return join(toolCacheDir(), `${tool.name}-${tool.version}`);
}

/**
 * The package's own folder (what `require` loads), installed or not.
 * @param {NpmTool} tool
 */
export function npmToolPackageDir(tool) {
  return join(npmToolDir(tool), 'node_modules', ...tool.package.split('/'));
}

/**
 * The package's folder when it is installed and built; undefined when it is not.
 * @param {NpmTool} tool
 * @returns {string | undefined}
 */
export function findNpmTool(tool) {
  const dir = npmToolPackageDir(tool);
  return existsSync(join(dir, tool.built)) ? dir : undefined;
}
