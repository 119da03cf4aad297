import { connect, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';
import type { Admin, Consumer, ISocketFactory, Kafka, Producer } from 'kafkajs';
import { z } from 'zod';
import type { Endpoint } from '../../base/endpoint.ts';
import { parseDuration } from '../../base/duration.ts';
import { findNpmTool, npmToolDir, npmTools } from '../../base/npm-tools.mjs';
import { FaultlineError } from '../../errors.ts';
import type { Adapter } from '../driver.ts';
import { classifyError } from '../transport-errors.ts';
import { ProducerProcessLoad } from './kafka-producer-process.ts';
import { MessagingLoad, type BrokerSession, type ConsumerLink, type Delivery, type ProducerLink } from './messaging-load.ts';
import type { MessagingWorkload } from './messaging-workload.ts';

/** Client settings of a design the messaging workload reaches over the Kafka protocol. */
export interface KafkaClientOptions {
  /**
   * The producers' client library. `kafkajs` (default): kafkajs, the adapter gathering messages
   * into requests. `confluent`: librdkafka through `@confluentinc/kafka-javascript`, which
   * `npm run setup` builds into faultline's tool cache: each message goes to librdkafka as it is
   * due, and librdkafka batches them (`lingerMs` as its `linger.ms`, `batchSize` as
   * `batch.num.messages`, `maxInFlight` as `max.in.flight`), retries until the workload's
   * `publishTimeout` (its `message.timeout.ms`) and, idempotent, keeps order and drops
   * duplicates across retries by itself. Consumers are kafkajs with either: a crashed consumer's
   * connections are cut with no LeaveGroup, as a dead process's are, which only kafkajs's socket
   * factory lets faultline do. Default `kafkajs`.
   */
  client: 'kafkajs' | 'confluent';
  /**
   * With client `confluent`: the design's producers run in a child process of the driver's
   * (their librdkafka producers, sends, delivery reports and publish timeouts), which reports
   * every 10 ms what the driver records (the same operations, distributions and history), so
   * the per-message work of producing leaves the one thread that also consumes, measures and
   * paces. Closed model: the producers' process keeps the publishes outstanding itself; open
   * model: the driver's pacer makes messages due and hands them over once per turn of its event
   * loop. A process, not a worker thread: the package's addon delivers its callbacks on the
   * process's main event loop only. The load generator's CPU in a run's resources leaves the
   * producers' process out. Default false: the producers run in the driver's thread.
   */
  producerProcess: boolean;
  /** The topic's partitions. Default 3. */
  partitions: number;
  /** The topic's replication factor. Default: the cluster's (1 on one node, 3 on a cluster of the `kafka` target). */
  replicationFactor?: number;
  /** Producer acknowledgements: 0 (none), 1 (the leader), `all` (every in-sync replica). Default `all`. */
  acks: 0 | 1 | 'all';
  /** Idempotent producer (kafkajs: one request in flight per connection, as it requires; librdkafka: up to 5). Default false. */
  idempotent: boolean;
  /** `none` or `gzip` (the codecs kafkajs has without add-ons). Default `none`. */
  compression: 'none' | 'gzip';
  /** How long a producer gathers messages into one request (ms): kafkajs does not batch by itself, so the adapter does. Default 5. */
  lingerMs: number;
  /** Messages per request at most. Default 500. */
  batchSize: number;
  /** Requests in flight per producer (per broker connection with `confluent`). Default 5 (1 when idempotent with kafkajs; at most 5 when idempotent with `confluent`). */
  maxInFlight: number;
  /** Commit offsets automatically (every `autoCommitIntervalMs`, whatever was handed to the application) or after each message's processing. Default false. */
  autoCommit: boolean;
  /**
   * Without auto-commit, when a processed message's offset is committed: `each` (default), one
   * commit round trip after each message before the partition's next one (at most a few hundred
   * messages a second per partition), or `interval`: every `autoCommitIntervalMs`, the offsets
   * of what was processed by then (kafkajs resolves an offset when its processing ends). Both are
   * at least once; `interval` takes up to an interval's processed messages twice after a crash.
   */
  commit: 'each' | 'interval';
  autoCommitIntervalMs: number;
  /** The consumer group's session timeout (ms): how long a crashed consumer holds its partitions. Default 6000 (the broker's minimum). */
  sessionTimeoutMs: number;
  /** Topic and consumer group name. Default `faultline`. */
  name: string;
}

/** librdkafka's idempotent producer keeps at most this many requests in flight per connection. */
const LIBRDKAFKA_IDEMPOTENT_IN_FLIGHT = 5;

const kafkaClientSchema = z.strictObject({
  client: z.enum(['kafkajs', 'confluent']).default('kafkajs'),
  producerProcess: z.boolean().default(false),
  partitions: z.number().int().positive().max(1000).default(3),
  replicationFactor: z.number().int().positive().max(5).optional(),
  acks: z.union([z.literal(0), z.literal(1), z.literal('all')]).default('all'),
  idempotent: z.boolean().default(false),
  compression: z.enum(['none', 'gzip']).default('none'),
  lingerMs: z.number().min(0).max(1000).default(5),
  batchSize: z.number().int().positive().max(100_000).default(500),
  maxInFlight: z.number().int().positive().max(100).optional(),
  autoCommit: z.boolean().default(false),
  commit: z.enum(['each', 'interval']).default('each'),
  autoCommitIntervalMs: z.number().int().positive().max(60_000).default(1000),
  sessionTimeoutMs: z.number().int().min(6000).max(300_000).default(6000),
  name: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, ., _ and -').default('faultline'),
}).check((ctx) => {
  const o = ctx.value;
  if (o.idempotent && o.acks !== 'all') ctx.issues.push({ code: 'custom', input: o, path: ['acks'], message: "an idempotent producer needs acks: 'all'" });
  if (o.autoCommit && o.commit !== 'each') ctx.issues.push({ code: 'custom', input: o, path: ['commit'], message: 'commit says when a processed message is committed; with autoCommit kafkajs commits what it handed out: remove one of them' });
  if (o.producerProcess && o.client !== 'confluent') ctx.issues.push({ code: 'custom', input: o, path: ['producerProcess'], message: "producerProcess runs librdkafka's producers in a process of their own: it needs client: 'confluent'" });
  if (o.client === 'confluent' && o.idempotent && o.maxInFlight !== undefined && o.maxInFlight > LIBRDKAFKA_IDEMPOTENT_IN_FLIGHT) {
    ctx.issues.push({ code: 'custom', input: o, path: ['maxInFlight'], message: `librdkafka's idempotent producer (client: 'confluent') keeps at most ${LIBRDKAFKA_IDEMPOTENT_IN_FLIGHT} requests in flight: use ${LIBRDKAFKA_IDEMPOTENT_IN_FLIGHT} or fewer` });
  }
}).transform((o) => ({ ...o, maxInFlight: o.maxInFlight ?? (o.idempotent && o.client === 'kafkajs' ? 1 : 5) }));

/**
 * librdkafka's local errors that are one of the transport's kinds; the others are
 * `kafka_<name>` (ERR__QUEUE_FULL: `kafka_queue_full`).
 */
const LIBRDKAFKA_KINDS: Readonly<Record<string, string>> = {
  ERR__MSG_TIMED_OUT: 'timeout',
  ERR__TIMED_OUT: 'timeout',
  ERR__TIMED_OUT_QUEUE: 'timeout',
  ERR_REQUEST_TIMED_OUT: 'timeout',
  ERR__TRANSPORT: 'reset',
};

/**
 * A publish failure's error kind: the broker's errors as `kafka_<error>` (kafkajs's protocol
 * errors, librdkafka's ERR_<error>), timeouts and connection errors as the transport's kinds.
 */
export function classifyKafkaError(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const x = e as { name?: string; type?: string; message?: string; originalError?: unknown; cause?: unknown };
    // librdkafka names its codes ERR_<protocol error> and ERR__<local error>; kafkajs's types have no prefix.
    if (x.type?.startsWith('ERR_')) return LIBRDKAFKA_KINDS[x.type] ?? `kafka_${x.type.replace(/^ERR__?/, '').toLowerCase()}`;
    if (x.name === 'KafkaJSRequestTimeoutError' || x.name === 'KafkaJSTimeout') return 'timeout';
    if (x.name === 'KafkaJSProtocolError' && x.type) return `kafka_${x.type.toLowerCase()}`;
    if (x.name === 'KafkaJSConnectionError' || x.name === 'KafkaJSConnectionClosedError') {
      const kind = classifyError(x.cause ?? x.originalError);
      return kind === 'other' ? (/ECONNREFUSED/.test(x.message ?? '') ? 'refused' : 'reset') : kind;
    }
    e = x.originalError ?? x.cause;
  }
  return classifyError(err);
}

/** Sockets of one client, so a crash can cut them all; once crashed, every new connection fails at once. */
class Sockets {
  private readonly open = new Set<Socket>();
  dead = false;
  readonly factory: ISocketFactory = ({ host, port, onConnect }) => {
    if (this.dead) {
      // Never connected: a loopback connect can complete before a later destroy, and kafkajs
      // then writes what it had queued (a LeaveGroup, an offset commit) from the dead client.
      const s = new Socket();
      setImmediate(() => s.destroy(new Error('client crashed')));
      return s;
    }
    const s = connect({ host, port }, onConnect);
    s.setNoDelay(true);
    this.open.add(s);
    s.once('close', () => this.open.delete(s));
    return s;
  };

  cutAll(): void {
    this.dead = true;
    for (const s of this.open) s.destroy(new Error('client crashed'));
  }
}

const KAFKA_ACKS = { 0: 0, 1: 1, all: -1 } as const;
let kafkajsModule: typeof KafkaJs | undefined;
/** kafkajs, loaded when a design first needs a client (synchronously: clients are made in constructors); listing or validating scenarios never does. */
const kafkajs = (): typeof KafkaJs => (kafkajsModule ??= createRequire(import.meta.url)('kafkajs') as typeof KafkaJs);

/** Settles one message: called with its delivery report's error, or nothing when it was delivered. */
type Settle = (err?: unknown) => void;

/** The part of `@confluentinc/kafka-javascript` the adapter uses: its librdkafka Producer (the node-rdkafka API). */
interface Librdkafka {
  Producer: new (config: Readonly<Record<string, string | number | boolean>>) => LibrdkafkaProducer;
  /** librdkafka's error codes by name. */
  CODES: { ERRORS: Readonly<Record<string, number>> };
}

interface LibrdkafkaProducer {
  /** Starts librdkafka and fetches the metadata asked for; `cb` once it has it. */
  connect(metadata: { topic: string; timeout: number }, cb: (err: unknown) => void): unknown;
  /** Serves delivery reports from librdkafka's own thread, with no poll from here. */
  setPollInBackground(on: boolean): unknown;
  /** Queues one message in librdkafka; throws when it cannot (a full queue). */
  produce(topic: string, partition: null, value: Buffer, key: string | null, timestamp: null, opaque: Settle): unknown;
  on(event: 'delivery-report', listener: (err: unknown, report: { opaque?: Settle }) => void): unknown;
  /** Waits up to `timeoutMs` for queued messages, then stops librdkafka. */
  disconnect(timeoutMs: number, cb: () => void): unknown;
}

const confluentTool = npmTools.find((t) => t.name === 'confluent-kafka-javascript')!;
let confluentModule: Librdkafka | undefined;

/**
 * `@confluentinc/kafka-javascript` from faultline's tool cache (not a dependency: its install
 * builds librdkafka from source). Loaded when a design with `client: 'confluent'` makes its
 * driver; a set-up error when it is not installed or does not load.
 */
function librdkafka(): Librdkafka {
  if (confluentModule) return confluentModule;
  const dir = confluentPackage();
  try {
    confluentModule = createRequire(import.meta.url)(dir) as Librdkafka;
  } catch (err) {
    throw confluentLoadError(dir, err instanceof Error ? err.message : String(err));
  }
  return confluentModule;
}

/** The package's folder in the tool cache; a set-up error when it is not installed. */
function confluentPackage(): string {
  const dir = findNpmTool(confluentTool);
  if (dir) return dir;
  throw new FaultlineError('setup', `client: 'confluent' needs ${confluentTool.package} ${confluentTool.version} (librdkafka) in faultline's tool cache, and it is not there (${npmToolDir(confluentTool)}): 'npm run setup' (or 'faultline setup' where faultline is an installed package) builds it`, {
    hint: "the set-up builds it from source with the machine's g++ and make (Debian: g++ make zlib1g-dev), in a few minutes; or use client: 'kafkajs'",
  });
}

function confluentLoadError(dir: string, message: string): FaultlineError {
  return new FaultlineError('setup', `${confluentTool.package} ${confluentTool.version} in ${dir} does not load: ${message}`, {
    hint: `its addon is built for one Node version: if Node changed since, or the build is damaged, remove ${npmToolDir(confluentTool)} and run 'npm run setup' again`,
  });
}

/** librdkafka's settings for producer `index` of a design (client `confluent`), in the driver's process or the producers' process. */
function librdkafkaProducerConfig(o: z.output<typeof kafkaClientSchema>, brokers: readonly string[], publishTimeoutMs: number, index: number): Record<string, string | number | boolean> {
  return {
    'bootstrap.servers': brokers.join(','),
    'client.id': `faultline-producer-${index}`,
    // Quiet: errors reach the publishes they fail.
    log_level: 0,
    dr_cb: true,
    acks: KAFKA_ACKS[o.acks],
    'enable.idempotence': o.idempotent,
    'compression.codec': o.compression,
    'linger.ms': o.lingerMs,
    'batch.num.messages': o.batchSize,
    'max.in.flight': o.maxInFlight,
    // A message librdkafka still holds when the publish times out here fails there too;
    // librdkafka wants it longer than the linger.
    'message.timeout.ms': Math.max(publishTimeoutMs, Math.ceil(o.lingerMs) + 1),
    // The same key to partition mapping as kafkajs's and the Java client's default partitioner.
    partitioner: 'murmur2_random',
    // The kafkajs clients' connection and request timeouts.
    'socket.connection.setup.timeout.ms': 3000,
    'socket.timeout.ms': 10_000,
  };
}

/** How long a new topic may take to have a leader for every partition. */
const TOPIC_READY_MS = 60_000;

/**
 * Waits until the brokers' metadata shows at least `partitions` partitions of the topic, each
 * with a leader. kafkajs's own wait after creating a topic gives up when the broker it asks has
 * not heard of the topic yet, which a cluster's brokers on a busy machine take seconds to.
 */
export async function topicLed(admin: Admin, topic: string, partitions: number): Promise<void> {
  const deadline = performance.now() + TOPIC_READY_MS;
  let last = 'no answer';
  while (performance.now() < deadline) {
    try {
      const all = (await admin.fetchTopicMetadata({ topics: [topic] })).topics[0]?.partitions ?? [];
      const led = all.filter((p) => p.leader >= 0).length;
      if (all.length >= partitions && led === all.length) return;
      last = `${led} of ${Math.max(all.length, partitions)} partitions have a leader`;
    } catch (err) {
      last = err instanceof Error ? err.message : String(err);
    }
    await sleep(200);
  }
  throw new Error(`topic '${topic}' has no leader for every partition after ${TOPIC_READY_MS / 1000} s (${last})`);
}

/** Gathers a producer's messages into requests of up to `batchSize`, sent after `lingerMs`, with at most `maxInFlight` requests out. */
class KafkaProducerLink implements ProducerLink {
  private producer: Producer;
  private readonly s: KafkaSession;
  private readonly index: number;
  private pending: { value: Buffer; key: string | undefined; resolve: () => void; reject: (e: unknown) => void; handedOver: () => void }[] = [];
  private timer: NodeJS.Timeout | undefined;
  private inFlight = 0;
  private closed = false;
  /** An idempotent producer being replaced after a failed request; nothing is sent meanwhile. */
  private renewing: Promise<void> | undefined;

  constructor(s: KafkaSession, index: number) {
    this.s = s;
    this.index = index;
    this.producer = this.newProducer();
  }

  private newProducer(): Producer {
    const o = this.s.options;
    return this.s.client(`faultline-producer-${this.index}`).producer({
      idempotent: o.idempotent,
      maxInFlightRequests: o.maxInFlight,
      allowAutoTopicCreation: false,
      retry: { retries: 2, initialRetryTime: 100 },
    });
  }

  /**
   * After a failed request an idempotent kafkajs producer hands its sequence numbers out again,
   * even when the broker had appended the request: the broker then takes the next request for a
   * duplicate, answers it as written and drops it (acknowledged, never stored), and everything
   * after gets OUT_OF_ORDER_SEQUENCE_NUMBER. A new producer gets a new producer id, whose
   * sequence starts afresh, as librdkafka and the Java client do by bumping the epoch.
   */
  private renew(): void {
    const old = this.producer;
    this.producer = this.newProducer();
    this.renewing = (async () => {
      await old.disconnect().catch(() => {});
      for (let attempt = 0; !this.closed; attempt++) {
        try {
          await this.producer.connect();
          return;
        } catch {
          await sleep(Math.min(1000, 100 * 2 ** attempt));
        }
      }
    })().finally(() => {
      this.renewing = undefined;
      if (this.pending.length > 0) this.flush();
    });
  }

  ready(): Promise<void> {
    return this.producer.connect();
  }

  publish(body: Buffer, key: number | undefined, handedOver: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('producer closed'));
    return new Promise((resolve, reject) => {
      this.pending.push({ value: body, key: key === undefined ? undefined : `k${key}`, resolve, reject, handedOver });
      if (this.pending.length >= this.s.options.batchSize) this.flush();
      else this.timer ??= setTimeout(() => this.flush(), this.s.options.lingerMs);
    });
  }

  private flush(): void {
    if (this.timer) clearTimeout(this.timer);
    this.timer = undefined;
    // Back-pressure: with every request slot taken, messages wait here and the next finished request sends them.
    if (this.renewing || this.inFlight >= this.s.options.maxInFlight || this.pending.length === 0) return;
    const batch = this.pending.splice(0, this.s.options.batchSize);
    this.inFlight++;
    for (const m of batch) m.handedOver();
    const o = this.s.options;
    this.producer.send({
      topic: o.name,
      acks: KAFKA_ACKS[o.acks],
      compression: o.compression === 'gzip' ? kafkajs().CompressionTypes.GZIP : kafkajs().CompressionTypes.None,
      messages: batch.map((m) => (m.key === undefined ? { value: m.value } : { key: m.key, value: m.value })),
    }).then(
      () => { for (const m of batch) m.resolve(); },
      (err: unknown) => {
        for (const m of batch) m.reject(err);
        if (o.idempotent && !this.closed && !this.renewing) this.renew();
      },
    ).finally(() => {
      this.inFlight--;
      if (this.pending.length > 0) this.flush();
    });
    if (this.pending.length >= o.batchSize) this.flush();
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.timer) clearTimeout(this.timer);
    for (const m of this.pending.splice(0)) m.reject(new Error('producer closed'));
    await this.renewing;
    await this.producer.disconnect().catch(() => {});
  }
}

/**
 * librdkafka's producer (client `confluent`): each message is handed to librdkafka as it is due
 * and acknowledged by its delivery report; librdkafka batches, retries (until the publish
 * timeout) and, when idempotent, keeps order and drops duplicates across retries. Nothing is
 * gathered here, so `publish_wait` is only the hand-over. The package's node-rdkafka Producer
 * rather than its KafkaJS-compatible one, whose send() wraps each call in promises and maps:
 * twice the CPU per message when every call carries one message (~21 µs against ~10 µs here).
 */
class ConfluentProducerLink implements ProducerLink {
  private readonly producer: LibrdkafkaProducer;
  private readonly topic: string;
  /** librdkafka's error names by code: its errors carry only the code. */
  private readonly errorNames: ReadonlyMap<number, string>;
  /** Messages not yet reported, so a close settles them. */
  private readonly open = new Set<Settle>();
  private closed = false;

  constructor(s: KafkaSession, lib: Librdkafka, index: number) {
    const o = s.options;
    this.topic = o.name;
    this.errorNames = new Map(Object.entries(lib.CODES.ERRORS).map(([name, code]) => [code, name]));
    this.producer = new lib.Producer(librdkafkaProducerConfig(o, s.brokers, s.publishTimeoutMs, index));
    this.producer.on('delivery-report', (err, report) => report.opaque?.(err ?? undefined));
  }

  /** Connected, with the topic's partitions and leaders known, before the first message is due. */
  ready(): Promise<void> {
    return new Promise((resolve, reject) => {
      this.producer.connect({ topic: this.topic, timeout: 10_000 }, (err) => {
        if (err) return reject(this.named(err));
        this.producer.setPollInBackground(true);
        resolve();
      });
    });
  }

  publish(body: Buffer, key: number | undefined, handedOver: () => void): Promise<void> {
    if (this.closed) return Promise.reject(new Error('producer closed'));
    return new Promise((resolve, reject) => {
      const settle: Settle = (err) => {
        this.open.delete(settle);
        if (err) reject(this.named(err));
        else resolve();
      };
      this.open.add(settle);
      try {
        this.producer.produce(this.topic, null, body, key === undefined ? null : `k${key}`, null, settle);
      } catch (err) {
        settle(err);
        return;
      }
      handedOver();
    });
  }

  /** A librdkafka error with its code's name (`type`, as ERR__MSG_TIMED_OUT), which the classification reads. */
  private named(err: unknown): unknown {
    const code = (err as { code?: unknown } | undefined)?.code;
    const name = typeof code === 'number' ? this.errorNames.get(code) : undefined;
    return name ? Object.assign(err as object, { type: name }) : err;
  }

  async close(): Promise<void> {
    this.closed = true;
    for (const settle of [...this.open]) settle(new Error('producer closed'));
    // No wait for what librdkafka still holds: the load has written those as failed.
    await new Promise<void>((resolve) => {
      try {
        this.producer.disconnect(0, () => resolve());
      } catch {
        // Never connected (its connect failed): nothing to stop.
        resolve();
      }
    });
  }
}

/**
 * One group member. With auto-commit, a message counts as handed over at once (kafkajs commits
 * what it handed out, processed or not); without, the member takes the next message of a
 * partition only after the last one's processing ended, and its offset was committed (`each`)
 * or will be with the next interval's commit (`interval`).
 */
class KafkaConsumerLink implements ConsumerLink {
  private readonly consumer: Consumer;
  private readonly sockets = new Sockets();
  private readonly running: Promise<void>;
  private crashed = false;
  /** Messages handed to the application and not yet acknowledged: kafkajs waits for them before it lets go of a partition. */
  private readonly unfinished = new Set<() => void>();

  constructor(s: KafkaSession, name: string, deliver: (d: Delivery) => void) {
    const o = s.options;
    this.consumer = s.client(`faultline-${name}`, this.sockets.factory).consumer({
      groupId: o.name,
      sessionTimeout: o.sessionTimeoutMs,
      heartbeatInterval: Math.floor(o.sessionTimeoutMs / 3),
      maxWaitTimeInMs: 100,
      retry: { retries: 5, initialRetryTime: 200, restartOnFailure: async () => !this.crashed },
    });
    const consumer = this.consumer;
    // Ready once the group gave it partitions: a rebalance takes seconds, and messages due
    // before it would count it in their end-to-end latency.
    const joined = new Promise<void>((resolve) => {
      const off = consumer.on(consumer.events.GROUP_JOIN, () => {
        off();
        resolve();
      });
    });
    this.running = (async () => {
      await consumer.connect();
      await consumer.subscribe({ topic: o.name, fromBeginning: true });
      await consumer.run({
        // `interval`: kafkajs's own auto-commit, but eachMessage returns only once the message is processed.
        autoCommit: o.autoCommit || o.commit === 'interval',
        autoCommitInterval: o.autoCommitIntervalMs,
        partitionsConsumedConcurrently: o.partitions,
        eachMessage: async ({ topic, partition, message }) => {
          if (!message.value || this.crashed) return;
          if (o.autoCommit) {
            deliver({ body: message.value, ack: () => {} });
            return;
          }
          await new Promise<void>((resolve) => {
            const release = (): void => {
              this.unfinished.delete(release);
              resolve();
            };
            this.unfinished.add(release);
            deliver({
              body: message.value!,
              ack: () => {
                if (this.crashed || o.commit === 'interval') return release();
                consumer.commitOffsets([{ topic, partition, offset: (BigInt(message.offset) + 1n).toString() }]).catch(() => {}).finally(release);
              },
            });
          });
        },
      });
      await joined;
    })();
    this.running.catch(() => {});
  }

  /** Joined the group (its first assignment may still be on its way). */
  ready(): Promise<void> {
    return this.running;
  }

  /** Lets kafkajs go on from messages whose processing will never finish here (nothing is committed for them). */
  private abandon(): void {
    for (const release of [...this.unfinished]) release();
  }

  crash(): void {
    this.crashed = true;
    // No LeaveGroup: the coordinator finds out when the session times out, as with a dead process.
    this.sockets.cutAll();
    this.abandon();
    void this.consumer.disconnect().catch(() => {});
  }

  async close(): Promise<void> {
    this.crashed = true;
    this.abandon();
    await this.consumer.disconnect().catch(() => {});
  }
}

/** One design's Kafka clients: the topic they use, their producers and group members. */
class KafkaSession implements BrokerSession {
  readonly options: z.output<typeof kafkaClientSchema>;
  readonly brokers: string[];
  /** The workload's publish timeout (ms). */
  readonly publishTimeoutMs: number;
  /** librdkafka, for producers of client `confluent`. */
  private readonly confluent: Librdkafka | undefined;
  private admin: Admin | undefined;

  constructor(endpoints: readonly Endpoint[], options: z.output<typeof kafkaClientSchema>, publishTimeoutMs: number) {
    this.options = options;
    this.publishTimeoutMs = publishTimeoutMs;
    this.brokers = endpoints.map((e) => `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`);
    // The producers' process loads librdkafka there; this one never needs it.
    this.confluent = options.client === 'confluent' && !options.producerProcess ? librdkafka() : undefined;
  }

  /** A kafkajs client of its own (its own connections), silent. */
  client(clientId: string, socketFactory?: ISocketFactory): Kafka {
    const { Kafka, logLevel } = kafkajs();
    return new Kafka({ clientId, brokers: this.brokers, logLevel: logLevel.NOTHING, connectionTimeout: 3000, requestTimeout: 10_000, ...(socketFactory ? { socketFactory } : {}) });
  }

  private async adminClient(): Promise<Admin> {
    if (!this.admin) {
      const a = this.client('faultline-admin').admin({ retry: { retries: 2 } });
      await a.connect();
      this.admin = a;
    }
    return this.admin;
  }

  async prepare(): Promise<void> {
    const o = this.options;
    const admin = await this.adminClient();
    const existing = await admin.listTopics();
    if (!existing.includes(o.name)) {
      await admin.createTopics({ waitForLeaders: false, topics: [{ topic: o.name, numPartitions: o.partitions, ...(o.replicationFactor !== undefined ? { replicationFactor: o.replicationFactor } : {}) }] });
    }
    // A topic that was there keeps the partitions it has, whatever the options say.
    await topicLed(admin, o.name, existing.includes(o.name) ? 1 : o.partitions);
  }

  producer(index: number): ProducerLink {
    return this.confluent ? new ConfluentProducerLink(this, this.confluent, index) : new KafkaProducerLink(this, index);
  }

  consumer(name: string, deliver: (d: Delivery) => void): ConsumerLink {
    return new KafkaConsumerLink(this, name, deliver);
  }

  /** Messages in the topic beyond the group's committed offsets; undefined while the broker cannot say. */
  async waiting(): Promise<number | undefined> {
    try {
      const admin = await this.adminClient();
      const [ends, committed] = await Promise.all([admin.fetchTopicOffsets(this.options.name), admin.fetchOffsets({ groupId: this.options.name, topics: [this.options.name] })]);
      const at = new Map(committed[0]?.partitions.map((p) => [p.partition, Number(p.offset)]) ?? []);
      let left = 0;
      for (const p of ends) left += Math.max(0, Number(p.high) - Math.max(0, at.get(p.partition) ?? 0));
      return left;
    } catch {
      const a = this.admin;
      this.admin = undefined;
      await a?.disconnect().catch(() => {});
      return undefined;
    }
  }

  async close(): Promise<void> {
    await this.admin?.disconnect().catch(() => {});
    this.admin = undefined;
  }
}

/** The `kafka` adapter of the messaging workload: kafkajs (batching in the adapter) or librdkafka producers, kafkajs consumers. */
export const kafkaAdapter: Adapter<MessagingWorkload, KafkaClientOptions> = {
  client: kafkaClientSchema as unknown as z.ZodType<KafkaClientOptions>,
  create: (workload, ctx) => {
    const o = ctx.client as z.output<typeof kafkaClientSchema>;
    const session = new KafkaSession(ctx.entry.endpoints, o, parseDuration(workload.publishTimeout ?? '10s')!);
    if (!o.producerProcess) return new MessagingLoad(workload, ctx, session, classifyKafkaError);
    const packageDir = confluentPackage();
    return new ProducerProcessLoad(workload, ctx, session, classifyKafkaError, {
      packageDir,
      topic: o.name,
      configs: Array.from({ length: workload.producers ?? 1 }, (_, i) => librdkafkaProducerConfig(o, session.brokers, session.publishTimeoutMs, i + 1)),
      publishTimeoutMs: session.publishTimeoutMs,
      loadFailed: (message) => confluentLoadError(packageDir, message),
    });
  },
};
