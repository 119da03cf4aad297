import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import type { Endpoint } from '../../../base/endpoint.ts';
import { SHARE_TALLY, type Adapter, type DriverContext, type LoadDriver, type RunWindow } from '../../../drivers/driver.ts';
import { classifyError } from '../../../drivers/transport-errors.ts';
import { OpenPacer, type SendOne } from '../../../drivers/pacer.ts';
import type { MetricSink } from '../../../metrics/sink.ts';
import { parseHostPort, TqConnection, type TqMessage } from '../tq-connection.ts';
import type { TestMessagingWorkload } from './test-messaging.ts';

/** Names this driver records (declared in the workload's vocabulary). */
export const PUBLISH_OP = 'publish';
export const E2E = 'e2e';
export const CONSUMED = 'consumed';
export const BACKLOG = 'backlog';

/** A put or take not answered within this is a `timeout`, and its connection is replaced (ms). */
const REQUEST_TIMEOUT_MS = 5000;
const CONNECT_TIMEOUT_MS = 2000;
/** Messages taken at most per poll. */
const TAKE_MAX = 1000;

/** Client settings of a design the test-messaging workload reaches over `tq`. */
export interface TqClientOptions {
  /** How often the consumer polls each partition with `take` (ms). Default 5. */
  pollIntervalMs: number;
  /**
   * Makes the driver itself break, to prove what the engine does then: `prepare` throws a plain
   * error before the window (a bug in a driver: exit 5, the result so far written), `close`
   * throws when the design is being stopped (the measured result is kept, the error noted).
   */
  breakIn?: 'prepare' | 'close';
}

const tqClientSchema = z.strictObject({
  pollIntervalMs: z.number().int().min(1).max(1000).default(5),
  breakIn: z.enum(['prepare', 'close']).optional(),
});

/**
 * A connection that opens itself again on the next request once it broke, always to the
 * address the partition advertised.
 */
class Link {
  private conn: Promise<TqConnection> | undefined;
  private readonly ep: Endpoint;

  constructor(ep: Endpoint) {
    this.ep = ep;
  }

  get(): Promise<TqConnection> {
    const current = this.conn;
    if (current) {
      return current.then((c) => (c.broken ? this.reopen(current) : c), () => this.reopen(current));
    }
    return this.reopen(undefined);
  }

  private reopen(was: Promise<TqConnection> | undefined): Promise<TqConnection> {
    // Requests that found the same broken connection share one new one.
    if (this.conn !== was) return this.conn!;
    this.conn = TqConnection.open(this.ep, CONNECT_TIMEOUT_MS);
    this.conn.catch(() => {});
    return this.conn;
  }

  close(): void {
    void this.conn?.then((c) => c.close(), () => {});
  }
}

/** One partition as the driver sees it: its producer and its consumer connections, both to its advertised address. */
class Partition {
  /** The partition's name as it says in its hello (`queue-1`): what `served_by` counts. */
  name: string;
  /** Its producer's id (`p1`), whose messages carry sequence numbers 1, 2, … */
  readonly producer: string;
  readonly entry: Endpoint;
  advertised: Endpoint | undefined;
  producerLink: Link | undefined;
  consumerLink: Link | undefined;
  seq = 0;
  /** Each sent message's intended send time (performance.now() ms), by sequence number. */
  readonly dueOf: number[] = [];
  /** Sequence numbers consumed at least once. */
  readonly seen = new Set<number>();
  pollTimer: NodeJS.Timeout | undefined;
  /** When the last take that found the partition empty was sent. */
  emptyAsOf = -Infinity;

  constructor(index: number, entry: Endpoint) {
    this.name = `partition-${index + 1}`;
    this.producer = `p${index + 1}`;
    this.entry = entry;
  }
}

/**
 * The test-messaging workload over `tq`: on prepare it says hello to every endpoint and then
 * uses only the address each partition advertised (like a Kafka client after metadata). Message
 * k goes to partition k mod N; the pacer sends on time and `publish` counts from the intended
 * time to the ack. A consumer polls every partition and records, for each message's first
 * receipt, `e2e` (from its intended send time, the same process's performance.now() clock),
 * `consumed` and `served_by`; `backlog` is sampled each second. The history holds every ack
 * and every receipt for the delivery checker.
 */
export class TqDriver implements LoadDriver {
  readonly model = 'open' as const;
  readonly connections: number;
  readonly targetRate: number;
  private readonly partitions: Partition[];
  private readonly byProducer = new Map<string, Partition>();
  private readonly pacer: OpenPacer;
  private readonly sink: MetricSink;
  private readonly pollIntervalMs: number;
  private readonly breakIn: TqClientOptions['breakIn'];
  private acked = 0;
  private consumed = 0;
  /** Receipts are recorded until the drain ends or the driver closes; what arrives later is not looked at. */
  private consuming = false;
  private closed = false;

  constructor(workload: TestMessagingWorkload, ctx: DriverContext<TqClientOptions>) {
    this.partitions = ctx.entry.endpoints.map((ep, i) => new Partition(i, ep));
    for (const p of this.partitions) this.byProducer.set(p.producer, p);
    this.connections = 2 * this.partitions.length;
    this.sink = ctx.sink;
    this.pollIntervalMs = ctx.client.pollIntervalMs;
    this.breakIn = ctx.client.breakIn;
    this.pacer = new OpenPacer(workload, { sink: ctx.sink, send: this.send });
    this.targetRate = this.pacer.targetRate;
    // A message may be consumed before its ack is read: the backlog never reads below zero.
    this.sink.gauge(BACKLOG, () => Math.max(0, this.acked - this.consumed));
  }

  /** Hello to each endpoint, then connections to the address it advertised. */
  async prepare(): Promise<void> {
    if (this.breakIn === 'prepare') throw new TypeError('test kit: the tq driver broke in prepare, as its client options asked');
    await Promise.all(this.partitions.map(async (p) => {
      const conn = await TqConnection.open(p.entry, CONNECT_TIMEOUT_MS);
      try {
        const hello = await conn.hello(REQUEST_TIMEOUT_MS);
        const advertised = parseHostPort(hello.advertised);
        if (!advertised) throw new Error(`partition at ${p.entry.host}:${p.entry.port} advertised '${hello.advertised}', which is not host:port`);
        p.advertised = advertised;
        if (hello.name) p.name = hello.name;
      } finally {
        conn.close();
      }
      p.producerLink = new Link(p.advertised);
      p.consumerLink = new Link(p.advertised);
      // Both connections are open before the first send is due.
      await Promise.all([p.producerLink.get(), p.consumerLink.get()]);
    }));
  }

  start(window: RunWindow): void {
    this.consuming = true;
    for (const p of this.partitions) this.poll(p);
    this.pacer.start(window);
  }

  private readonly send: SendOne = (k, dueMs, done) => {
    const part = this.partitions[k % this.partitions.length]!;
    const m: TqMessage = { p: part.producer, s: ++part.seq };
    part.dueOf[m.s] = dueMs;
    part.producerLink!.get().then((c) => c.put(m, REQUEST_TIMEOUT_MS)).then(
      () => {
        const now = performance.now();
        this.acked++;
        this.sink.op(PUBLISH_OP, dueMs, Math.round((now - dueMs) * 1000), 'ok');
        this.sink.history(now, { ev: 'ack', p: m.p, s: m.s });
        done();
      },
      (err: unknown) => {
        this.sink.failed(PUBLISH_OP, dueMs, classifyError(err));
        done();
      },
    );
  };

  /** One take on a partition, then the next after the poll interval, until consuming stops. */
  private poll(part: Partition): void {
    part.pollTimer = undefined;
    if (!this.consuming) return;
    const sentAt = performance.now();
    part.consumerLink!.get().then((c) => c.take(TAKE_MAX, REQUEST_TIMEOUT_MS)).then(
      (taken) => {
        if (!this.consuming) return;
        const now = performance.now();
        for (const m of taken.msgs) this.receive(part, m, now);
        if (taken.depth === 0) part.emptyAsOf = sentAt;
      },
      // A failed take is tried again at the next poll; what it missed stays queued.
      () => {},
    ).finally(() => {
      if (this.consuming) part.pollTimer = setTimeout(() => this.poll(part), this.pollIntervalMs);
    });
  }

  private receive(from: Partition, m: TqMessage, now: number): void {
    this.sink.history(now, { ev: 'recv', p: m.p, s: m.s });
    const prod = this.byProducer.get(m.p);
    // A copy of a message already consumed is the delivery checker's business, not a new message.
    if (!prod || prod.seen.has(m.s)) return;
    prod.seen.add(m.s);
    this.consumed++;
    const due = prod.dueOf[m.s];
    if (due !== undefined) this.sink.value(E2E, due, Math.round((now - due) * 1000));
    this.sink.count(CONSUMED, now);
    this.sink.tally(SHARE_TALLY, from.name, now);
  }

  /** Stops sending and waits for publishes in flight (at most their timeout). The consumer keeps polling for the drain. */
  async stop(): Promise<void> {
    await this.pacer.stop(REQUEST_TIMEOUT_MS + 1000);
  }

  /**
   * Polls on until every partition, asked after sending stopped, is empty: nothing more will
   * arrive (true; acked messages that never came are lost, which the checker counts), or until
   * the deadline (false). Consuming stops when it returns.
   */
  async drain(deadlineMs: number): Promise<boolean> {
    const began = performance.now();
    const until = began + deadlineMs;
    try {
      for (;;) {
        const empty = this.partitions.every((p) => p.emptyAsOf >= began);
        if (empty) return true;
        const left = until - performance.now();
        if (left <= 0) return false;
        await sleep(Math.min(this.pollIntervalMs, left));
      }
    } finally {
      this.stopConsuming();
    }
  }

  private stopConsuming(): void {
    this.consuming = false;
    for (const p of this.partitions) {
      if (p.pollTimer) clearTimeout(p.pollTimer);
      p.pollTimer = undefined;
    }
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    this.stopConsuming();
    await this.pacer.stop(0);
    for (const p of this.partitions) {
      p.producerLink?.close();
      p.consumerLink?.close();
    }
    if (this.breakIn === 'close') throw new TypeError('test kit: the tq driver broke in close, as its client options asked');
  }
}

/** The `tq` adapter of the test-messaging workload. */
export const tqAdapter: Adapter<TestMessagingWorkload, TqClientOptions> = {
  client: tqClientSchema,
  create: (workload, ctx) => new TqDriver(workload, ctx),
};
