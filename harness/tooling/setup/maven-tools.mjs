// Java programs faultline fetches from Maven Central, pinned, with their dependencies into its
// own tool cache (one folder per version, the jars in its lib/). Plain JavaScript: the set-up
// runs it on the machine's older Node, and the benchmarks find the jars through the same
// functions.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { toolCacheDir } from '../../base/go-tools.mjs';

/**
 * @typedef {object} MavenTool
 * @property {string} name the cache folder's name, before `-<version>`
 * @property {string} groupId
 * @property {string} artifactId
 * @property {string} version
 * @property {ReadonlyArray<string>} [alongside] more artifacts (`groupId:artifactId:version`)
 *   fetched into the same lib/, with their dependencies
 * @property {string} mainClass the class `java -cp '<lib>/*'` runs
 * @property {string} purpose
 */

/** @type {ReadonlyArray<MavenTool>} */
export const mavenTools = [
  {
    name: 'perf-test',
    groupId: 'com.rabbitmq',
    artifactId: 'perf-test',
    // 2.23.0 does not resolve from Maven Central: keep 2.22.1.
    version: '2.22.1',
    mainClass: 'com.rabbitmq.perf.PerfTest',
    purpose: "RabbitMQ's own load tool, ground truth for npm run bench:amqp",
  },
  {
    name: 'kafka',
    groupId: 'org.apache.kafka',
    artifactId: 'kafka_2.13',
    version: '4.1.1',
    alongside: [
      // ProducerPerformance and the other tools (StorageTool is in the broker's own jar).
      'org.apache.kafka:kafka-tools:4.1.1',
      // Kafka logs through slf4j 1.7, and its poms bring no binding: without this one the broker
      // logs nothing at all, not even why it failed to start. Same version as their log4j-core.
      'org.apache.logging.log4j:log4j-slf4j-impl:2.24.3',
    ],
    mainClass: 'kafka.Kafka',
    purpose: 'the Apache Kafka broker (KRaft) that the kafka target runs, and its tools',
  },
];

/**
 * Pinned, so a fetch does not depend on which plugin version the repository calls latest.
 * Its `copy-dependencies` copies the artifact and everything it needs at run time.
 */
const DEPENDENCY_PLUGIN = 'org.apache.maven.plugins:maven-dependency-plugin:3.6.1';

/**
 * The tool's folder in the cache: `<cache>/<name>-<version>`, its jars in `lib/`.
 * @param {MavenTool} tool
 */
export function mavenToolDir(tool) {
  return join(toolCacheDir(), `${tool.name}-${tool.version}`);
}

/**
 * The tool's own jar in the cache.
 * @param {MavenTool} tool
 */
function artifactJar(tool) {
  return join(mavenToolDir(tool), 'lib', `${tool.artifactId}-${tool.version}.jar`);
}

/**
 * The class path to run the tool with (`<dir>/lib/*`, for `java -cp`), when it is in the cache;
 * undefined when it is not. The lib folder appears whole or not at all (see installMavenTool).
 * @param {MavenTool} tool
 * @returns {string | undefined}
 */
export function findMavenTool(tool) {
  return existsSync(artifactJar(tool)) ? join(mavenToolDir(tool), 'lib', '*') : undefined;
}

/** @typedef {{ groupId: string, artifactId: string, version: string }} Coordinates */

/**
 * The tool's artifact first, then those it is fetched alongside.
 * @param {MavenTool} tool
 * @returns {Coordinates[]}
 */
function artifactsOf(tool) {
  const more = (tool.alongside ?? []).map((c) => {
    const [groupId = '', artifactId = '', version = ''] = c.split(':');
    return { groupId, artifactId, version };
  });
  return [{ groupId: tool.groupId, artifactId: tool.artifactId, version: tool.version }, ...more];
}

/**
 * A pom that only declares the tool (and the artifacts it is fetched alongside) as dependencies:
 * `copy-dependencies` then copies them and their dependencies (compile and runtime scope).
 * @param {MavenTool} tool
 */
function throwawayPom(tool) {
  const dependency = (/** @type {Coordinates} */ c) => `    <dependency>
      <groupId>${c.groupId}</groupId>
      <artifactId>${c.artifactId}</artifactId>
      <version>${c.version}</version>
    </dependency>
`;
  return `<?xml version="1.0" encoding="UTF-8"?>
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>faultline.tools</groupId>
  <artifactId>fetch-${tool.artifactId}</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
${artifactsOf(tool).map(dependency).join('')}  </dependencies>
</project>
`;
}

/**
 * Fetches the tool and its dependencies with `mvn` (on PATH) into its cache folder, unless they
 * are there already; returns the class path. The jars land in a temporary folder inside the
 * cache first and are renamed into place once all are there, so an interrupted fetch leaves
 * nothing that looks installed.
 * @param {MavenTool} tool
 * @param {(line: string) => void} [say] told the command it runs
 * @returns {string}
 */
export function installMavenTool(tool, say = () => {}) {
  const found = findMavenTool(tool);
  if (found) return found;
  const dir = mavenToolDir(tool);
  mkdirSync(dir, { recursive: true });
  const tmp = mkdtempSync(join(dir, '.fetch-'));
  try {
    const pom = join(tmp, 'pom.xml');
    writeFileSync(pom, throwawayPom(tool));
    const args = ['-q', '-B', '-Dstyle.color=never', '-f', pom, `${DEPENDENCY_PLUGIN}:copy-dependencies`, '-DincludeScope=runtime', `-DoutputDirectory=${join(tmp, 'lib')}`];
    say(`$ mvn ${args.join(' ')}`);
    // Quiet (-q) mvn prints only errors: shown when it fails.
    const r = spawnSync('mvn', args, { cwd: tmp, encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
    if (r.error) throw new Error(`could not run mvn: ${r.error.message}`);
    if (r.status !== 0) {
      const output = `${r.stdout}${r.stderr}`.trim().split('\n').slice(-15).join('\n');
      throw new Error(`mvn exited with ${r.status ?? r.signal} fetching ${tool.groupId}:${tool.artifactId}:${tool.version}:\n${output}`);
    }
    for (const { artifactId, version } of artifactsOf(tool)) {
      if (!existsSync(join(tmp, 'lib', `${artifactId}-${version}.jar`))) throw new Error(`mvn did not produce ${artifactId}-${version}.jar`);
    }
    rmSync(join(dir, 'lib'), { recursive: true, force: true });
    renameSync(join(tmp, 'lib'), join(dir, 'lib'));
  } finally {
    rmSync(tmp, { recursive: true, force: true });
  }
  return join(dir, 'lib', '*');
}
