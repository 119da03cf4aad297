import { createHash } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, posix } from 'node:path';
import { Kafka, logLevel } from 'kafkajs';
import { z } from 'zod';
import { FaultlineError } from '../../harness/errors.ts';
import type { Endpoint } from '../../harness/runtime/runtime.ts';
import { Wait } from '../../harness/runtime/wait.ts';
import { entryAt, type LocalContext, type LocalProcess, type ServiceSpec } from '../../harness/runtime/service-spec.ts';
import { findMavenTool, mavenTools } from '../../harness/tooling/setup/maven-tools.mjs';
import type { TargetDefinition } from '../target.ts';

export interface KafkaOptions {
  /** Service name inside the design; default `kafka`. */
  name?: string;
  /** The broker JVM's heap in MiB (`-Xms` and `-Xmx` alike), 256–4096. Default 512. */
  heapMb?: number;
}

const options = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and -').optional(),
  heapMb: z.number().int().min(256).max(4096).optional(),
});

const DEFAULT_HEAP_MB = 512;
/** The JVM boots in ~4 s on 2 idle cores; far longer while the machine is busy. */
const READY_TIMEOUT_MS = 90_000;
const PROBE_TIMEOUT_MS = 1_500;

/** The broker's jars, fetched by `npm run setup` into the tool cache. */
const KAFKA_TOOL = mavenTools.find((t) => t.name === 'kafka')!;

/** The class path of the cached broker jars (`<lib>/*`), or a setup error saying how to fetch them. */
function kafkaClassPath(): string {
  const found = findMavenTool(KAFKA_TOOL);
  if (found) return found;
  throw new FaultlineError('setup', `the Kafka broker's jars (${KAFKA_TOOL.groupId}:${KAFKA_TOOL.artifactId}:${KAFKA_TOOL.version}) are not in the tool cache`, {
    hint: 'run npm run setup (it fetches them with mvn; Java 17 or later runs them)',
  });
}

const parseKafkaVersion = (jar: string) => /^kafka_2\.13-(\d+\.\d+\.\d+)\.jar$/.exec(jar)?.[1];

/** Read from the broker jar's name in the cache; nothing is run. */
function installedVersion(): string {
  const classPath = findMavenTool(KAFKA_TOOL);
  if (!classPath) return 'unknown';
  try {
    return readdirSync(dirname(classPath)).map(parseKafkaVersion).find((v) => v !== undefined) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * The KRaft cluster id for a service dir: 16 bytes of a hash of the dir, base64url (22 chars),
 * so a restart in the same dir finds its formatted storage under the same id. The first byte's
 * top bit is cleared so the id never starts with `-`, which the format tool would read as an option.
 */
export function kafkaClusterId(dir: string): string {
  const bytes = createHash('sha256').update(dir).digest().subarray(0, 16);
  bytes[0] = bytes[0]! & 0x7f;
  return bytes.toString('base64url');
}

/**
 * The combined broker and controller's `server.properties`: only checked numbers and the
 * runtime's addresses reach it. Clients are told `advertised`, the address they reach the
 * broker at (the Toxiproxy proxy when a fault may touch their link), so after their first
 * metadata request they keep going through it.
 */
export function renderServerProperties(listen: { host: string; kafka: number; controller: number }, advertised: { host: string; port: number }, dataDir: string): string {
  return [
    'process.roles=broker,controller',
    'node.id=1',
    `controller.quorum.voters=1@${listen.host}:${listen.controller}`,
    `listeners=PLAINTEXT://${listen.host}:${listen.kafka},CONTROLLER://${listen.host}:${listen.controller}`,
    `advertised.listeners=PLAINTEXT://${advertised.host}:${advertised.port}`,
    'controller.listener.names=CONTROLLER',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    `log.dirs=${dataDir}`,
    // One node: the internal topics cannot have more replicas than that.
    'offsets.topic.replication.factor=1',
    'transaction.state.log.replication.factor=1',
    'transaction.state.log.min.isr=1',
    'share.coordinator.state.topic.replication.factor=1',
    'share.coordinator.state.topic.min.isr=1',
    // A consumer group's first member gets its partitions at once, not after 3 s.
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=1',
    // Topics are the load's to create, with the partitions it asks for.
    'auto.create.topics.enable=false',
    '',
  ].join('\n');
}

/** log4j2 (Kafka 4 logs through it): warnings and errors to the console, the runtime's log of the service. */
export const LOG4J2_PROPERTIES = `status = warn
appender.console.type = Console
appender.console.name = STDOUT
appender.console.layout.type = PatternLayout
appender.console.layout.pattern = [%d] %p %m (%c)%n
rootLogger.level = warn
rootLogger.appenderRef.stdout.ref = STDOUT
`;

/**
 * Formats the storage on the first start in a dir only (no meta.properties yet), so a restart
 * keeps its topics and messages; then execs the broker, so signals reach the JVM itself.
 * Arguments: the class path, the cluster id, the heap in MiB.
 */
const startScript = `set -eu
cd "$(dirname "$0")"
if [ ! -f data/meta.properties ]; then
  java -Dlog4j2.configurationFile=log4j2.properties -cp "$1" kafka.tools.StorageTool format -t "$2" -c server.properties >/dev/null
fi
exec java -Xms"$3"m -Xmx"$3"m -Dlog4j2.configurationFile=log4j2.properties -cp "$1" kafka.Kafka server.properties
`;

function brokerProcess(o: KafkaOptions, ctx: LocalContext): LocalProcess {
  const heapMb = o.heapMb ?? DEFAULT_HEAP_MB;
  return {
    command: 'sh',
    args: [posix.join(ctx.dir, 'kafka-start.sh'), kafkaClassPath(), kafkaClusterId(ctx.dir), String(heapMb)],
    files: {
      'kafka-start.sh': startScript,
      'server.properties': renderServerProperties({ host: ctx.host, kafka: ctx.ports.kafka!, controller: ctx.ports.controller! }, ctx.advertised.kafka!, posix.join(ctx.dir, 'data')),
      'log4j2.properties': LOG4J2_PROPERTIES,
    },
  };
}

/**
 * A Kafka round trip (ApiVersions, then Metadata) as an admin client, given up after
 * PROBE_TIMEOUT_MS. Every connection goes to the probed endpoint, whatever address the broker
 * advertises: that may be a proxy that does not forward yet while the broker starts.
 */
async function kafkaMetadata(ep: Endpoint, signal: AbortSignal): Promise<boolean> {
  const kafka = new Kafka({
    clientId: 'faultline-ready',
    brokers: [`${ep.host}:${ep.port}`],
    logLevel: logLevel.NOTHING,
    connectionTimeout: PROBE_TIMEOUT_MS,
    requestTimeout: PROBE_TIMEOUT_MS,
    retry: { retries: 0 },
    socketFactory: ({ onConnect }) => connect({ host: ep.host, port: ep.port }, onConnect),
  });
  const admin = kafka.admin({ retry: { retries: 0 } });
  const giveUp = AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]);
  const abandoned = new Promise<never>((_, reject) => {
    if (giveUp.aborted) reject(new Error('aborted'));
    giveUp.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
  const asked = (async () => {
    await admin.connect();
    const cluster = await admin.describeCluster();
    return cluster.brokers.length > 0 && cluster.controller !== null;
  })();
  try {
    const ok = await Promise.race([asked, abandoned]);
    await admin.disconnect();
    return ok;
  } catch {
    // An answer that comes after we gave up must not leave its connection open.
    void asked.catch(() => false).then(() => admin.disconnect()).catch(() => {});
    return false;
  }
}

/**
 * One Apache Kafka broker in KRaft mode (broker and controller in one JVM, no ZooKeeper), as a
 * service spec. Ports: `kafka` (the load's) and `controller` (KRaft's, loopback only). Its
 * topics and messages survive a restart in the same dir. Local runtime only for now: its
 * container form comes with a docker image of its own.
 */
export function kafkaSpec(name = 'kafka', o: KafkaOptions = {}): ServiceSpec {
  return {
    name,
    target: 'kafka',
    ports: ['kafka', 'controller'],
    protocols: { kafka: 'kafka' },
    // SIGTERM reaches the JVM (the script execs it): a controlled shutdown.
    stopSignal: 'SIGTERM',
    local: (ctx) => brokerProcess(o, ctx),
    ready: Wait.forProbe('Kafka metadata request', kafkaMetadata, { port: 'kafka', timeoutMs: READY_TIMEOUT_MS }),
    program: { name: 'kafka', version: async () => installedVersion() },
  };
}

export const kafkaTarget: TargetDefinition<KafkaOptions> = {
  name: 'kafka',
  description: 'an Apache Kafka broker in KRaft mode (one node, broker and controller in one JVM; local runtime)',
  options,
  topology: (o) => {
    const name = o.name ?? 'kafka';
    return { services: [kafkaSpec(name, o)], entries: [entryAt('kafka', name, 'kafka')] };
  },
};

/** A design of one Kafka broker, e.g. `kafka({ heapMb: 1024 })`. */
export function kafka(options: KafkaOptions = {}) {
  return { target: 'kafka', options } as const;
}
