import { connect, Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import { createRequire } from 'node:module';
import type * as KafkaJs from 'kafkajs';
import type { Admin, Consumer, ISocketFactory, Kafka, Producer } from 'kafkajs';
import { z } from 'zod';
import type { Endpoint } from '../../base/endpoint.ts';
import type { Adapter } from '../driver.ts';
import { classifyError } from '../transport-errors.ts';
import { MessagingLoad, type BrokerSession, type ConsumerLink, type Delivery, type ProducerLink } from './messaging-load.ts';
import type { MessagingWorkload } from './messaging-workload.ts';

/** Client settings of a design the messaging workload reaches over the Kafka protocol (kafkajs). */
export interface KafkaClientOptions {
  /** The topic's partitions. Default 3. */
  partitions: number;
  /** The topic's replication factor. Default: the cluster's (1 on one node, 3 on a cluster of the `kafka` target). */
  replicationFactor?: number;
  /** Producer acknowledgements: 0 (none), 1 (the leader), `all` (every in-sync replica). Default `all`. */
  acks: 0 | 1 | 'all';
  /** Idempotent producer (one request in flight per connection, as kafkajs requires). Default false. */
  idempotent: boolean;
  /** `none` or `gzip` (the codecs kafkajs has without add-ons). Default `none`. */
  compression: 'none' | 'gzip';
  /** How long a producer gathers messages into one request (ms): kafkajs does not batch by itself. Default 5. */
  lingerMs: number;
  /** Messages per request at most. Default 500. */
  batchSize: number;
  /** Requests in flight per producer. Default 5 (1 when idempotent). */
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

const kafkaClientSchema = z.strictObject({
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
}).transform((o) => ({ ...o, maxInFlight: o.maxInFlight ?? (o.idempotent ? 1 : 5) }));

/** A publish failure's error kind: kafkajs's protocol errors as `kafka_<error>`, its connection errors as the transport's kinds. */
export function classifyKafkaError(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const x = e as { name?: string; type?: string; message?: string; originalError?: unknown; cause?: unknown };
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
  private readonly brokers: string[];
  private admin: Admin | undefined;

  constructor(endpoints: readonly Endpoint[], options: z.output<typeof kafkaClientSchema>) {
    this.options = options;
    this.brokers = endpoints.map((e) => `${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`);
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
    return new KafkaProducerLink(this, index);
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

/** The `kafka` adapter of the messaging workload (kafkajs, batching in the adapter). */
export const kafkaAdapter: Adapter<MessagingWorkload, KafkaClientOptions> = {
  client: kafkaClientSchema as unknown as z.ZodType<KafkaClientOptions>,
  create: (workload, ctx) => new MessagingLoad(workload, ctx, new KafkaSession(ctx.entry.endpoints, ctx.client as z.output<typeof kafkaClientSchema>), classifyKafkaError),
};
