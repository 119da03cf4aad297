import { createHash, randomBytes } from 'node:crypto';
import { readdirSync } from 'node:fs';
import { posix } from 'node:path';
import { z } from 'zod';
import type { Endpoint } from '../../harness/runtime/runtime.ts';
import { Wait } from '../../harness/runtime/wait.ts';
import { entryAt, type LocalContext, type LocalProcess, type ServiceSpec, type Topology } from '../../harness/runtime/service-spec.ts';
import type { TargetDefinition } from '../target.ts';

export interface RabbitmqOptions {
  /** Service name inside the design; default `rabbitmq` (a cluster's nodes: `<name>-1`, `<name>-2`, …). */
  name?: string;
  /**
   * Nodes: 1 (default), or a cluster of 3 or 5 (local runtime only) that forms by itself at its
   * first boot, every node an entry endpoint; quorum queues replicate across all of them.
   */
  nodes?: 1 | 3 | 5;
  /** Memory alarm threshold as a fraction of the machine's memory (0.1–0.9; `vm_memory_high_watermark.relative`). Default RabbitMQ's 0.4. */
  memoryHighWatermark?: number;
  /** Free disk space below which publishers are blocked (`disk_free_limit.absolute`): bytes, or a count with a unit such as `500MB` or `1GiB`. Default RabbitMQ's `50MB`. */
  diskFreeLimit?: number | string;
}

const options = z.strictObject({
  name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and -').optional(),
  nodes: z.union([z.literal(1), z.literal(3), z.literal(5)]).optional(),
  memoryHighWatermark: z.number().min(0.1).max(0.9).optional(),
  diskFreeLimit: z.union([
    z.number().int().min(0),
    z.string().regex(/^\d+(kB|MB|GB|KiB|MiB|GiB)?$/, 'bytes with an optional unit: kB, MB, GB, KiB, MiB or GiB, e.g. 500MB'),
  ]).optional(),
});

/** The real server script of Debian's package (its /usr/sbin wrapper switches to the `rabbitmq` user). */
const DEBIAN_SERVER = '/usr/lib/rabbitmq/bin/rabbitmq-server';
const DEBIAN_LIB = '/usr/lib/rabbitmq/lib';
/** Boot is CPU-bound, ~6 s on 2 idle cores; far longer while the machine is busy. */
const READY_TIMEOUT_MS = 60_000;
const PROBE_TIMEOUT_MS = 1_000;
/** What the broker's default user logs in as; fine from loopback, and from anywhere once `loopback_users = none`. */
export const GUEST = { username: 'guest', password: 'guest' } as const;

/**
 * The `rabbitmq.conf` for these options: only checked numbers and sizes reach it.
 * `remoteGuest` lets `guest` log in from other addresses (the docker runtime, where the load and
 * Toxiproxy reach the broker from outside its container).
 */
export function renderRabbitmqConfig(o: RabbitmqOptions, listen: { host: string; port: number }, remoteGuest = false, peers?: readonly string[]): string {
  return [
    `listeners.tcp.default = ${listen.host}:${listen.port}`,
    // A cluster forms at first boot: a node that finds a peer running joins it.
    ...(peers ? ['cluster_formation.peer_discovery_backend = classic_config', ...peers.map((p, i) => `cluster_formation.classic_config.nodes.${i + 1} = ${p}`)] : []),
    ...(o.memoryHighWatermark !== undefined ? [`vm_memory_high_watermark.relative = ${o.memoryHighWatermark}`] : []),
    ...(o.diskFreeLimit !== undefined ? [`disk_free_limit.absolute = ${o.diskFreeLimit}`] : []),
    ...(remoteGuest ? ['loopback_users = none'] : []),
    '',
  ].join('\n');
}

/**
 * Starts the broker with an epmd of its own, both inside the service's process group (or
 * container), so a group kill, SIGSTOP or restart reaches both and nothing outlives a stop.
 * Left to itself, Erlang starts `epmd -daemon`, which leaves the group (setsid) and keeps
 * running after the node stops. Argument: the rabbitmq-server script to exec.
 * Not in the group, by erts' design: erl_child_setup and the port programs it spawns
 * (inet_gethost, the disk monitor's `sh`) each take a session of their own; they live on pipes
 * from beam.smp and exit within milliseconds of it, even after a SIGKILL.
 */
const startScript = `set -eu
cd "$HOME"
# Erlang refuses a cookie others can read. A single node gets a fresh one per start; a
# cluster's nodes share one for the run.
rm -f .erlang.cookie
(umask 277 && printf '%s' "$FAULTLINE_ERLANG_COOKIE" > .erlang.cookie)
if [ "\${FAULTLINE_SHARED_EPMD:-}" = "" ]; then
  epmd -port "$ERL_EPMD_PORT" -address 127.0.0.1 &
  epmd_pid=$!
  until epmd -port "$ERL_EPMD_PORT" -names >/dev/null 2>&1; do
    kill -0 "$epmd_pid" 2>/dev/null || { echo "faultline: epmd did not start on port $ERL_EPMD_PORT" >&2; exit 1; }
    sleep 0.02
  done
fi
exec "$1"
`;

/**
 * The node's name, stable per service dir: mnesia keeps its data under the node name, so a
 * restart in the same dir finds its durable queues and persistent messages again.
 */
export function rabbitmqNodeName(dir: string): string {
  return `rabbit-${createHash('sha256').update(dir).digest('hex').slice(0, 10)}@localhost`;
}

/** How a node of a cluster differs from a single node: its name, the run's cookie, the cluster's epmd and its peers. */
interface ClusterNode {
  nodeName: string;
  cookie: string;
  /** The link to the cluster's epmd service. */
  epmdLink: string;
  /** Every node's name, this one's included, for peer discovery. */
  peers: string[];
}

function brokerEnv(ctx: LocalContext, node?: ClusterNode): Record<string, string> {
  const at = (f: string) => posix.join(ctx.dir, f);
  return {
    HOME: ctx.dir,
    FAULTLINE_ERLANG_COOKIE: node?.cookie ?? randomBytes(20).toString('hex'),
    ...(node ? { FAULTLINE_SHARED_EPMD: '1' } : {}),
    RABBITMQ_NODENAME: node?.nodeName ?? rabbitmqNodeName(ctx.dir),
    RABBITMQ_NODE_IP_ADDRESS: ctx.host,
    RABBITMQ_NODE_PORT: String(ctx.ports.amqp),
    RABBITMQ_DIST_PORT: String(ctx.ports.dist),
    ERL_EPMD_PORT: String(node ? ctx.links[node.epmdLink]!.port : ctx.ports.epmd),
    ERL_EPMD_ADDRESS: '127.0.0.1',
    RABBITMQ_MNESIA_BASE: at('mnesia'),
    RABBITMQ_LOG_BASE: at('log'),
    // The console: the runtime's log of the service, whose tail a failed start shows.
    RABBITMQ_LOGS: '-',
    RABBITMQ_CONFIG_FILE: at('rabbitmq.conf'),
    // Neither the machine's /etc/rabbitmq (rabbitmq-env.conf, conf.d, advanced.config) nor an
    // image's defaults: these paths stay empty.
    RABBITMQ_CONFIG_FILES: at('conf.d/*.conf'),
    RABBITMQ_CONF_ENV_FILE: at('rabbitmq-env.conf'),
    RABBITMQ_ADVANCED_CONFIG_FILE: at('advanced.config'),
    RABBITMQ_ENABLED_PLUGINS_FILE: at('enabled_plugins'),
    RABBITMQ_SERVER_ADDITIONAL_ERL_ARGS: '-kernel inet_dist_use_interface {127,0,0,1}',
    // Read by every `erl` the node starts, its own and the helper RabbitMQ runs to make sure an
    // epmd is up: none of them may start a daemonized epmd.
    ERL_ZFLAGS: '-start_epmd false',
    ERL_CRASH_DUMP: at('erl_crash.dump'),
  };
}

function brokerProcess(o: RabbitmqOptions, ctx: LocalContext, server: string, remoteGuest: boolean, node?: ClusterNode): LocalProcess {
  return {
    command: 'sh',
    args: [posix.join(ctx.dir, 'rabbitmq-start.sh'), server],
    env: brokerEnv(ctx, node),
    files: {
      'rabbitmq-start.sh': startScript,
      'rabbitmq.conf': renderRabbitmqConfig(o, { host: ctx.host, port: ctx.ports.amqp! }, remoteGuest, node?.peers),
      enabled_plugins: '[].\n',
    },
  };
}

/** `amqp://guest:guest@host:port` for an endpoint. */
export function amqpUrl(ep: Endpoint): string {
  return `amqp://${GUEST.username}:${GUEST.password}@${ep.host}:${ep.port}`;
}

/** A full AMQP handshake as guest, given up after a second; the broker opens its listener last in its boot. */
async function amqpHandshake(ep: Endpoint, signal: AbortSignal): Promise<boolean> {
  // Loaded on first use: listing or validating scenarios never probes a broker.
  const { default: amqp } = await import('amqplib');
  const pending = amqp.connect(amqpUrl(ep), { noDelay: true, timeout: PROBE_TIMEOUT_MS });
  const giveUp = AbortSignal.any([signal, AbortSignal.timeout(PROBE_TIMEOUT_MS)]);
  const abandoned = new Promise<never>((_, reject) => {
    if (giveUp.aborted) reject(new Error('aborted'));
    giveUp.addEventListener('abort', () => reject(new Error('aborted')), { once: true });
  });
  try {
    const conn = await Promise.race([pending, abandoned]);
    await conn.close();
    return true;
  } catch {
    // A handshake that completes after we gave up must not leave its connection open.
    pending.then((c) => c.close(), () => {}).catch(() => {});
    return false;
  }
}

const parseRabbitmqVersion = (output: string) => /rabbitmq_server-(\d+\.\d+\.\d+)/.exec(output)?.[1];

/** Debian's package has no version command (any argument to rabbitmq-server boots a node): its lib folder is named after the version. */
function installedVersion(): string {
  try {
    return readdirSync(DEBIAN_LIB).map(parseRabbitmqVersion).find((v) => v !== undefined) ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

/**
 * One RabbitMQ node on its own epmd, as a service spec. Ports: `amqp` (the load's), `epmd` and
 * `dist` (Erlang distribution, loopback only). Its data survives a restart in the same dir.
 */
export function rabbitmqSpec(name = 'rabbitmq', o: RabbitmqOptions = {}, node?: ClusterNode): ServiceSpec {
  const spec: ServiceSpec = {
    name,
    target: 'rabbitmq',
    ports: node ? ['amqp', 'dist'] : ['amqp', 'epmd', 'dist'],
    protocols: { amqp: 'amqp' },
    // SIGTERM reaches beam.smp (a graceful stop, ~1 s) and the script that waits for it.
    stopSignal: 'SIGTERM',
    local: (ctx) => brokerProcess(o, ctx, DEBIAN_SERVER, false, node),
    // `rabbitmq-server` on PATH: /opt/rabbitmq/sbin in the official image, /usr/lib/rabbitmq/bin
    // in the local one (build-images.ts). Both run it as root here, as the runtime replaces the
    // official entrypoint (which would step down to the `rabbitmq` user).
    container: (ctx) => ({ image: 'rabbitmq', ...brokerProcess(o, ctx, 'rabbitmq-server', true) }),
    ready: Wait.forProbe('AMQP handshake', amqpHandshake, { port: 'amqp', timeoutMs: READY_TIMEOUT_MS }),
    program: {
      name: 'rabbitmq-server',
      version: async () => installedVersion(),
      // Asked inside a container through `sh`: the official image sets RABBITMQ_VERSION, Debian's package names its lib folder.
      versionArgs: ['-c', `echo "rabbitmq_server-\${RABBITMQ_VERSION:-}"; ls ${DEBIAN_LIB} 2>/dev/null || true`],
      parseVersion: parseRabbitmqVersion,
    },
  };
  // A cluster's nodes find each other through one epmd on this machine: local runtime only.
  if (node) delete spec.container;
  return spec;
}

/** The epmd a cluster's nodes register with, a service of its own so no node fault takes it down. */
function epmdSpec(name: string): ServiceSpec {
  return {
    name,
    target: 'rabbitmq',
    ports: ['epmd'],
    local: (ctx) => ({ command: 'epmd', args: ['-port', String(ctx.ports.epmd), '-address', '127.0.0.1'] }),
    ready: Wait.forTcp(),
    program: { name: 'epmd', version: async () => 'erlang' },
  };
}

/**
 * N nodes and their epmd. Node names carry a random token of this start (`rabbit-<token>-<i>`),
 * fixed for the design's run so a restarted node comes back as itself and finds its data.
 */
function clusterTopology(name: string, o: RabbitmqOptions, nodes: number): Topology {
  const token = randomBytes(4).toString('hex');
  const cookie = randomBytes(20).toString('hex');
  const names = Array.from({ length: nodes }, (_, i) => `${name}-${i + 1}`);
  const peers = names.map((_, i) => `rabbit-${token}-${i + 1}@localhost`);
  const epmd = `${name}-epmd`;
  return {
    services: [epmdSpec(epmd), ...names.map((n, i) => rabbitmqSpec(n, o, { nodeName: peers[i]!, cookie, epmdLink: `${n}->epmd`, peers }))],
    links: names.map((n) => ({ name: `${n}->epmd`, from: n, to: epmd })),
    entries: [{ protocol: 'amqp', endpoints: names.map((n) => ({ service: n, port: 'amqp' })) }],
  };
}

export const rabbitmqTarget: TargetDefinition<RabbitmqOptions> = {
  name: 'rabbitmq',
  description: 'a RabbitMQ broker (AMQP 0-9-1): one node with its own epmd, or a cluster of 3 or 5 nodes',
  options,
  topology: (o) => {
    const name = o.name ?? 'rabbitmq';
    if ((o.nodes ?? 1) > 1) return clusterTopology(name, o, o.nodes!);
    return { services: [rabbitmqSpec(name, o)], entries: [entryAt('amqp', name, 'amqp')] };
  },
};

/** A design of one RabbitMQ broker, e.g. `rabbitmq({ memoryHighWatermark: 0.2 })`. */
export function rabbitmq(options: RabbitmqOptions = {}) {
  return { target: 'rabbitmq', options } as const;
}
