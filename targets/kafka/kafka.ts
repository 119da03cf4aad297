import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { connect } from 'node:net';
import { dirname, posix } from 'node:path';
import { z } from 'zod';
import { FaultlineError } from '../../harness/errors.ts';
import type { Endpoint } from '../../harness/runtime/runtime.ts';
import { Wait } from '../../harness/runtime/wait.ts';
import { entryAt, type ContainerContext, type ContainerProcess, type LocalContext, type LocalProcess, type ServiceSpec, type Topology } from '../../harness/runtime/service-spec.ts';
import { findMavenTool, mavenTools } from '../../harness/tooling/setup/maven-tools.mjs';
import type { TargetDefinition } from '../target.ts';

export interface KafkaOptions {
  /** Service name inside the design; default `kafka` (a cluster's brokers: `<name>-1`, `<name>-2`, …, its controller `<name>-controller`). */
  name?: string;
  /** Each JVM's heap in MiB (`-Xms` and `-Xmx` alike), 256–4096. Default 512. */
  heapMb?: number;
  /**
   * 1 (default): one node, broker and controller in one JVM. 3 or 5: a cluster of that many
   * brokers and one controller of their own (KRaft's isolated mode), topics replicated 3 times by
   * default with `min.insync.replicas` 2. Local runtime only.
   */
  brokers?: 1 | 3 | 5;
}

const options = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and -').optional(),
  heapMb: z.number().int().min(256).max(4096).optional(),
  brokers: z.union([z.literal(1), z.literal(3), z.literal(5)]).optional(),
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
 * A KRaft cluster id from 16 bytes: base64url (22 chars), the first byte's top bit cleared so the
 * id never starts with `-`, which the format tool would read as an option.
 */
function clusterIdOf(bytes: Buffer): string {
  const b = Buffer.from(bytes.subarray(0, 16));
  b[0] = b[0]! & 0x7f;
  return b.toString('base64url');
}

/** The single node's cluster id: a hash of its service dir, so a restart in the same dir finds its formatted storage under the same id. */
export function kafkaClusterId(dir: string): string {
  return clusterIdOf(createHash('sha256').update(dir).digest());
}

/** What every node's properties say, whatever its role. */
function commonProperties(dataDir: string, replicas: number): string[] {
  return [
    'controller.listener.names=CONTROLLER',
    `log.dirs=${dataDir}`,
    // Topics a client creates without a replication factor get `replicas` copies, and acks=all
    // needs two of them in sync: the controller applies the first, each partition's leader the
    // second, so every node says both.
    `default.replication.factor=${replicas}`,
    `min.insync.replicas=${Math.min(2, replicas)}`,
    // The internal topics (offsets, transactions, share groups) as replicated as the topics the load makes.
    `offsets.topic.replication.factor=${replicas}`,
    `transaction.state.log.replication.factor=${replicas}`,
    `transaction.state.log.min.isr=${Math.min(2, replicas)}`,
    `share.coordinator.state.topic.replication.factor=${replicas}`,
    `share.coordinator.state.topic.min.isr=${Math.min(2, replicas)}`,
    // A consumer group's first member gets its partitions at once, not after 3 s.
    'group.initial.rebalance.delay.ms=0',
    'num.partitions=1',
    // Topics are the load's to create, with the partitions it asks for.
    'auto.create.topics.enable=false',
  ];
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
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
    // One node: the internal topics cannot have more replicas than that.
    ...commonProperties(dataDir, 1),
    '',
  ].join('\n');
}

/** A cluster's controller has this node id; its brokers are 1..N. */
export const CONTROLLER_ID = 100;
/** Copies of each partition in a cluster by default; two of them must have a write before acks=all is answered. */
const CLUSTER_REPLICAS = 3;

/** A cluster's controller: the KRaft quorum of one, which brokers register with and which elects partition leaders. */
export function renderControllerProperties(listen: { host: string; controller: number }, dataDir: string): string {
  return [
    'process.roles=controller',
    `node.id=${CONTROLLER_ID}`,
    `controller.quorum.voters=${CONTROLLER_ID}@${listen.host}:${listen.controller}`,
    `listeners=CONTROLLER://${listen.host}:${listen.controller}`,
    'listener.security.protocol.map=CONTROLLER:PLAINTEXT',
    ...commonProperties(dataDir, CLUSTER_REPLICAS),
    '',
  ].join('\n');
}

/**
 * Broker `id` of a cluster. Clients get `advertised` (the proxy of their link to this broker
 * when a fault may touch it) on the PLAINTEXT listener; brokers replicate over INTERNAL, which
 * advertises the broker's own address, so a fault on a client's link never stops replication.
 * `controller` is where this broker reaches the controller (its link's address).
 */
export function renderBrokerProperties(id: number, listen: { host: string; kafka: number; internal: number }, advertised: { host: string; port: number }, controller: { host: string; port: number }, dataDir: string): string {
  return [
    'process.roles=broker',
    `node.id=${id}`,
    `controller.quorum.voters=${CONTROLLER_ID}@${controller.host}:${controller.port}`,
    `listeners=PLAINTEXT://${listen.host}:${listen.kafka},INTERNAL://${listen.host}:${listen.internal}`,
    `advertised.listeners=PLAINTEXT://${advertised.host}:${advertised.port},INTERNAL://${listen.host}:${listen.internal}`,
    'inter.broker.listener.name=INTERNAL',
    'listener.security.protocol.map=PLAINTEXT:PLAINTEXT,INTERNAL:PLAINTEXT,CONTROLLER:PLAINTEXT',
    ...commonProperties(dataDir, CLUSTER_REPLICAS),
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

/** How a node of a cluster differs from the single node: its role, and the cluster id every node shares. */
type ClusterNode = { clusterId: string } & ({ role: 'controller' } | { role: 'broker'; id: number; controllerLink: string });

function nodeProperties(ctx: LocalContext, dataDir: string, node?: ClusterNode): string {
  if (!node) return renderServerProperties({ host: ctx.host, kafka: ctx.ports.kafka!, controller: ctx.ports.controller! }, ctx.advertised.kafka!, dataDir);
  if (node.role === 'controller') return renderControllerProperties({ host: ctx.host, controller: ctx.ports.controller! }, dataDir);
  return renderBrokerProperties(node.id, { host: ctx.host, kafka: ctx.ports.kafka!, internal: ctx.ports.internal! }, ctx.advertised.kafka!, ctx.links[node.controllerLink]!, dataDir);
}

function brokerProcess(o: KafkaOptions, ctx: LocalContext, node?: ClusterNode): LocalProcess {
  const heapMb = o.heapMb ?? DEFAULT_HEAP_MB;
  return {
    command: 'sh',
    args: [posix.join(ctx.dir, 'kafka-start.sh'), kafkaClassPath(), node?.clusterId ?? kafkaClusterId(ctx.dir), String(heapMb)],
    files: {
      'kafka-start.sh': startScript,
      'server.properties': nodeProperties(ctx, posix.join(ctx.dir, 'data'), node),
      'log4j2.properties': LOG4J2_PROPERTIES,
    },
  };
}

/** The broker's jars in a container: the official image's layout, which the local image (build-images.ts) copies. */
const CONTAINER_CLASS_PATH = '/opt/kafka/libs/*';
/**
 * Where the broker keeps its properties and data in a container: the official image runs as a
 * user of its own, who cannot write to the folder the runtime copies the files into. The
 * container's file system outlives a restart, and the data with it.
 */
const CONTAINER_WORK_DIR = '/tmp/faultline-kafka';
/** Stands for the container's address on the design's network in its properties, until the container knows it. */
const OWN_ADDRESS = 'faultline-own-address';

/**
 * Copies the files into the work dir, puts the container's address on the design's network in
 * place of OWN_ADDRESS, and runs the start script there with its arguments. That address is what
 * the container's network alias (FAULTLINE_NETWORK_ALIAS) resolves to: the container is on the
 * engine's default bridge as well, so its hostname has two. Run at every start, so a restarted
 * container binds and advertises the address it has now.
 */
const containerScript = `set -eu
from="$(dirname "$0")"
own=
for a in $(getent hosts "$FAULTLINE_NETWORK_ALIAS" || true); do
  case "$a" in *.*.*.*) own="$a"; break ;; esac
done
[ -n "$own" ] || { echo "faultline: the network alias '$FAULTLINE_NETWORK_ALIAS' has no IPv4 address inside the container" >&2; exit 1; }
mkdir -p ${CONTAINER_WORK_DIR}
cp "$from/kafka-start.sh" "$from/log4j2.properties" ${CONTAINER_WORK_DIR}/
sed "s/${OWN_ADDRESS}/$own/g" "$from/server.properties" > ${CONTAINER_WORK_DIR}/server.properties
exec sh ${CONTAINER_WORK_DIR}/kafka-start.sh "$@"
`;

/**
 * The single node as a container. It listens on the container's address on the design's
 * network, not on all its addresses: KRaft refuses 0.0.0.0 as a voter's address, and the
 * combined node's controller listener is its own voter. What it advertises decides where every
 * client goes after its first metadata answer, so it must be an address the load reaches from
 * the host. When a fault may touch the client link, the runtime says the Toxiproxy container's
 * address and the proxy's port: the host reaches that container at its address on the network,
 * and so do the other containers. Otherwise the runtime says the service's network alias (its
 * name), which only other containers resolve; the broker advertises its own address on the
 * network instead, read inside the container at each start: the address the runtime hands the
 * load as the entry endpoint (no published port, no docker-proxy), and one the other containers
 * reach as well. A restart keeps the container, and with it that address.
 */
function containerProcess(name: string, o: KafkaOptions, ctx: ContainerContext): ContainerProcess {
  const given = ctx.advertised.kafka!;
  const advertised = given.host === name ? { host: OWN_ADDRESS, port: given.port } : given;
  return {
    image: 'kafka',
    command: 'sh',
    args: [posix.join(ctx.dir, 'kafka-container.sh'), CONTAINER_CLASS_PATH, kafkaClusterId(ctx.dir), String(o.heapMb ?? DEFAULT_HEAP_MB)],
    env: { FAULTLINE_NETWORK_ALIAS: name },
    files: {
      'kafka-container.sh': containerScript,
      'kafka-start.sh': startScript,
      'server.properties': renderServerProperties({ host: OWN_ADDRESS, kafka: ctx.ports.kafka!, controller: ctx.ports.controller! }, advertised, posix.join(CONTAINER_WORK_DIR, 'data')),
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
  // Loaded on first use: listing or validating scenarios never probes a broker.
  const { Kafka, logLevel } = await import('kafkajs');
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
 * service spec, in both runtimes. Ports: `kafka` (the load's) and `controller` (KRaft's, which
 * no client is told). Its topics and messages survive a restart in the same dir or container.
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
    // The official `apache/kafka` image, or the local one build-images.ts makes from the same jars.
    container: (ctx) => containerProcess(name, o, ctx),
    ready: Wait.forProbe('Kafka metadata request', kafkaMetadata, { port: 'kafka', timeoutMs: READY_TIMEOUT_MS }),
    program: {
      name: 'kafka',
      version: async () => installedVersion(),
      // Asked inside a container through `sh`: both images name the broker jar after the version.
      versionArgs: ['-c', `ls ${posix.dirname(CONTAINER_CLASS_PATH)}`],
      parseVersion: (output) => output.split('\n').map((line) => parseKafkaVersion(line.trim())).find((v) => v !== undefined),
    },
  };
}

/** A cluster's controller: ready once its KRaft port takes connections (the brokers retry until they register). */
function controllerSpec(name: string, o: KafkaOptions, clusterId: string): ServiceSpec {
  return {
    name,
    target: 'kafka',
    ports: ['controller'],
    stopSignal: 'SIGTERM',
    local: (ctx) => brokerProcess(o, ctx, { clusterId, role: 'controller' }),
    ready: Wait.forTcp('controller', READY_TIMEOUT_MS),
    program: { name: 'kafka', version: async () => installedVersion() },
  };
}

/** Broker `id` of a cluster: ports `kafka` (the load's) and `internal` (replication). */
function clusterBrokerSpec(name: string, o: KafkaOptions, node: ClusterNode & { role: 'broker' }): ServiceSpec {
  return {
    name,
    target: 'kafka',
    ports: ['kafka', 'internal'],
    protocols: { kafka: 'kafka' },
    stopSignal: 'SIGTERM',
    local: (ctx) => brokerProcess(o, ctx, node),
    ready: Wait.forProbe('Kafka metadata request', kafkaMetadata, { port: 'kafka', timeoutMs: READY_TIMEOUT_MS }),
    program: { name: 'kafka', version: async () => installedVersion() },
  };
}

/**
 * N brokers and their controller (KRaft's isolated mode): the controller starts first, alone a
 * quorum; each broker registers with it through its own link (`<broker>->controller`), so a
 * fault can cut one broker off the controller. The nodes share a cluster id drawn at this start;
 * each keeps its formatted storage across restarts. Every broker is an entry endpoint. One
 * controller keeps the cluster within 2 cores; a fault on it stops leader elections, not the
 * brokers' service to clients.
 */
function clusterTopology(name: string, o: KafkaOptions, brokers: number): Topology {
  const shared = { clusterId: clusterIdOf(randomBytes(16)) };
  const controller = `${name}-controller`;
  const names = Array.from({ length: brokers }, (_, i) => `${name}-${i + 1}`);
  return {
    services: [controllerSpec(controller, o, shared.clusterId), ...names.map((n, i) => clusterBrokerSpec(n, o, { ...shared, role: 'broker', id: i + 1, controllerLink: `${n}->controller` }))],
    links: names.map((n) => ({ name: `${n}->controller`, from: n, to: controller, port: 'controller' })),
    entries: [{ protocol: 'kafka', endpoints: names.map((service) => ({ service, port: 'kafka' })) }],
  };
}

export const kafkaTarget: TargetDefinition<KafkaOptions> = {
  name: 'kafka',
  description: 'an Apache Kafka broker in KRaft mode: one node (broker and controller in one JVM; local or docker runtime), or a cluster of 3 or 5 brokers and a controller (local runtime only)',
  options,
  topology: (o) => {
    const name = o.name ?? 'kafka';
    if ((o.brokers ?? 1) > 1) return clusterTopology(name, o, o.brokers!);
    return { services: [kafkaSpec(name, o)], entries: [entryAt('kafka', name, 'kafka')] };
  },
};

/** A design of one Kafka broker, e.g. `kafka({ heapMb: 1024 })`. */
export function kafka(options: KafkaOptions = {}) {
  return { target: 'kafka', options } as const;
}
