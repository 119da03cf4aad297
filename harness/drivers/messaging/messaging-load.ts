import { setTimeout as sleep } from 'node:timers/promises';
import { parseDuration } from '../../base/duration.ts';
import type { MetricSink } from '../../metrics/sink.ts';
import { SHARE_TALLY, type DriverContext, type LoadDriver, type RunWindow } from '../driver.ts';
import { ClosedLoops, OpenPacer, type SendOne } from '../pacer.ts';
import { decodeMessage, encodeMessage, type MessagingWorkload } from './messaging-workload.ts';

/** Names this workload records (declared in its vocabulary). */
export const PUBLISH_OP = 'publish';
export const E2E = 'e2e';
export const PUBLISH_WAIT = 'publish_wait';
export const CONSUMED = 'consumed';
export const BACKLOG = 'backlog';

/** One message handed to a consumer by its broker client. */
export interface Delivery {
  body: Buffer;
  /** Acknowledges it to the broker (manual acknowledgement); does nothing where the broker needs none. */
  ack(): void;
}

/** One producer's connection, as an adapter keeps it (reconnecting on its own after a failure). */
export interface ProducerLink {
  /** Connects before the first send. */
  ready(): Promise<void>;
  /**
   * Publishes one message and resolves when its producer may count it as safe (the broker's
   * confirm, or written to the connection without confirms); rejects with the failure.
   * `handedOver` is called when the client library took the message (after any confirm window
   * or back-pressure wait).
   */
  publish(body: Buffer, key: number | undefined, handedOver: () => void): Promise<void>;
  close(): Promise<void>;
}

/** One consumer's connection, delivering messages until closed or crashed. */
export interface ConsumerLink {
  /** Subscribed and receiving. */
  ready(): Promise<void>;
  /** Cuts the connection without a goodbye (a crashed process): nothing more is delivered or acknowledged. */
  crash(): void;
  close(): Promise<void>;
}

/** What an adapter provides for one design: its producers and consumers on one broker protocol. */
export interface BrokerSession {
  /** Declares what the design needs (exchanges, queues, topics) before the first send. */
  prepare(): Promise<void>;
  producer(index: number): ProducerLink;
  consumer(name: string, deliver: (d: Delivery) => void): ConsumerLink;
  /** Messages the broker still holds for the consumers (not yet delivered to any), or undefined when it cannot say right now. */
  waiting(): Promise<number | undefined>;
  close(): Promise<void>;
}

/** A message's failure mapped to an error kind. */
export type ClassifyFailure = (err: unknown) => string;

class Producer {
  readonly id: string;
  readonly index: number;
  readonly link: ProducerLink;
  seq = 0;
  constructor(index: number, link: ProducerLink) {
    this.index = index;
    this.link = link;
    this.id = `p${index}`;
  }
}

/** A consumer as the application sees it: deliveries wait in memory until a worker takes them. */
class Consumer {
  link: ConsumerLink | undefined;
  readonly waitingInMemory: Delivery[] = [];
  busy = 0;
  crashed = false;
  /** Bumped when the consumer crashes, so work of the dead one finishes nothing. */
  life = 0;
  readonly timers = new Set<NodeJS.Timeout>();
  readonly name: string;
  constructor(name: string) {
    this.name = name;
  }
}

/**
 * The messaging workload over any broker protocol: the pacer (open) or closed loops send
 * messages through producers; consumers take them and process them one `concurrency` slot at a
 * time. Publish latency counts from each message's due time to its acknowledgement;
 * `publish_wait` is the part spent before the client library took it (confirm window,
 * back-pressure, reconnecting). `e2e` counts from the due time to the start of processing,
 * both on this process's performance.now() clock (producers and consumers share the process).
 * The history holds every ack, failure and receipt for the delivery checker.
 */
export class MessagingLoad implements LoadDriver {
  readonly model: 'open' | 'closed';
  readonly connections: number;
  readonly targetRate?: number;
  private readonly session: BrokerSession;
  private readonly sink: MetricSink;
  private readonly producers: Producer[];
  private readonly consumers: Consumer[];
  private readonly size: number;
  private readonly keys: number | undefined;
  private readonly processingMs: number;
  private readonly concurrency: number;
  private readonly publishTimeoutMs: number;
  private readonly classify: ClassifyFailure;
  private readonly pacer: OpenPacer | ClosedLoops;
  /** First receipts, by producer: `seen[p][s]`. Bit sets would be smaller; one byte per message keeps 10 M messages at 10 MB. */
  private readonly seen: Uint8Array[] = [];
  /** Messages published but not yet acknowledged or failed, by producer id → sequence numbers (for the failures written at close). */
  private readonly outstanding = new Map<string, Set<number>>();
  private acked = 0;
  private consumedCount = 0;
  private closed = false;

  constructor(workload: MessagingWorkload, ctx: DriverContext<unknown>, session: BrokerSession, classify: ClassifyFailure) {
    this.session = session;
    this.sink = ctx.sink;
    this.classify = classify;
    this.size = workload.messageSize ?? 1024;
    this.keys = workload.keys;
    this.processingMs = parseDuration(workload.processingTime ?? '0ms')!;
    this.concurrency = workload.concurrency ?? 1;
    this.publishTimeoutMs = parseDuration(workload.publishTimeout ?? '10s')!;
    this.producers = Array.from({ length: workload.producers ?? 1 }, (_, i) => new Producer(i + 1, session.producer(i + 1)));
    this.consumers = Array.from({ length: workload.consumers ?? 1 }, (_, i) => new Consumer(`consumer-${i + 1}`));
    for (const p of this.producers) {
      this.seen[p.index] = new Uint8Array(1024);
      this.outstanding.set(p.id, new Set());
    }
    this.connections = this.producers.length + this.consumers.length;
    this.model = workload.model;
    if (workload.model === 'open') {
      const pacer = new OpenPacer(workload, { sink: ctx.sink, send: this.send });
      this.targetRate = pacer.targetRate;
      this.pacer = pacer;
    } else {
      this.pacer = new ClosedLoops(this.producers.length * (workload.inFlight ?? 1), { sink: ctx.sink, send: this.send });
    }
    // A message may be consumed before its ack is read: the backlog never reads below zero.
    this.sink.gauge(BACKLOG, () => Math.max(0, this.acked - this.consumedCount));
  }

  async prepare(): Promise<void> {
    await this.session.prepare();
    for (const c of this.consumers) this.subscribe(c);
    // Every connection is open, and every consumer subscribed, before the first send is due.
    await Promise.all([...this.producers.map((p) => p.link.ready()), ...this.consumers.map((c) => c.link!.ready())]);
  }

  private subscribe(c: Consumer): void {
    const life = c.life;
    c.link = this.session.consumer(c.name, (d) => {
      if (c.life !== life || this.closed) return;
      c.waitingInMemory.push(d);
      this.work(c);
    });
  }

  start(window: RunWindow): void {
    this.pacer.start(window);
  }

  private readonly send: SendOne = (k, dueMs, done) => {
    const prod = this.producers[k % this.producers.length]!;
    const s = ++prod.seq;
    const key = this.keys === undefined ? undefined : k % this.keys;
    const body = encodeMessage({ producer: prod.index, seq: s, dueMs, key }, this.size);
    const open = this.outstanding.get(prod.id)!;
    open.add(s);
    let settled = false;
    const settle = (outcome: 'ok' | string): void => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      // After close the failure of what was still open is already written.
      if (this.closed) return;
      open.delete(s);
      const now = performance.now();
      if (outcome === 'ok') {
        this.acked++;
        this.sink.op(PUBLISH_OP, dueMs, Math.round((now - dueMs) * 1000), 'ok');
        this.sink.history(now, { ev: 'ack', p: prod.id, s });
      } else {
        this.sink.op(PUBLISH_OP, dueMs, Math.round((now - dueMs) * 1000), outcome);
        this.sink.history(now, { ev: 'fail', p: prod.id, s });
      }
      done();
    };
    const timer = setTimeout(() => settle('timeout'), this.publishTimeoutMs);
    prod.link.publish(body, key, () => this.sink.value(PUBLISH_WAIT, dueMs, Math.round((performance.now() - dueMs) * 1000))).then(
      () => settle('ok'),
      (err: unknown) => settle(this.classify(err)),
    );
  };

  /** Starts processing what waits in memory while the consumer has a free slot. */
  private work(c: Consumer): void {
    while (c.busy < this.concurrency && c.waitingInMemory.length > 0) {
      const d = c.waitingInMemory.shift()!;
      c.busy++;
      this.receive(c, d);
      if (this.processingMs === 0) {
        this.finish(c, d, c.life);
      } else {
        const life = c.life;
        const t = setTimeout(() => {
          c.timers.delete(t);
          this.finish(c, d, life);
        }, this.processingMs);
        c.timers.add(t);
      }
    }
  }

  private finish(c: Consumer, d: Delivery, life: number): void {
    if (c.life !== life) return;
    c.busy--;
    d.ack();
    this.work(c);
  }

  private receive(c: Consumer, d: Delivery): void {
    const h = decodeMessage(d.body);
    if (!h) return;
    const now = performance.now();
    const p = `p${h.producer}`;
    this.sink.history(now, h.key === undefined ? { ev: 'recv', p, s: h.seq, c: c.name } : { ev: 'recv', p, s: h.seq, k: h.key, c: c.name });
    if (!this.firstReceipt(h.producer, h.seq)) return;
    this.consumedCount++;
    this.sink.value(E2E, h.dueMs, Math.round((now - h.dueMs) * 1000));
    this.sink.count(CONSUMED, now);
    this.sink.tally(SHARE_TALLY, c.name, now);
  }

  /** Marks a message received; false when it was received before. */
  private firstReceipt(producer: number, seq: number): boolean {
    let bits = this.seen[producer];
    if (!bits) return true;
    if (seq >= bits.length) {
      const grown = new Uint8Array(Math.max(bits.length * 2, seq + 1));
      grown.set(bits);
      this.seen[producer] = bits = grown;
    }
    if (bits[seq] === 1) return false;
    bits[seq] = 1;
    return true;
  }

  /** Stops sending and waits for publishes in flight (at most their timeout). Consumers go on for the drain. */
  async stop(): Promise<void> {
    await this.pacer.stop(this.publishTimeoutMs + 1000);
  }

  /**
   * Lets consumers catch up until the broker holds nothing more for them and nothing waits in
   * their memory or is being processed (true), or until the deadline (false). Whatever was
   * acknowledged and never came is the checker's to count.
   */
  async drain(deadlineMs: number): Promise<boolean> {
    const until = performance.now() + deadlineMs;
    for (;;) {
      const idle = this.consumers.every((c) => c.crashed || (c.busy === 0 && c.waitingInMemory.length === 0));
      if (idle && (await this.session.waiting()) === 0) {
        // Deliveries already on their way from the broker show up within a moment; look once more.
        await sleep(100);
        if (this.consumers.every((c) => c.crashed || (c.busy === 0 && c.waitingInMemory.length === 0))) return true;
      }
      const left = until - performance.now();
      if (left <= 0) return false;
      await sleep(Math.min(50, left));
    }
  }

  /** Clients a `crash` fault may name. */
  async crash(client: string): Promise<void> {
    const c = this.consumerNamed(client);
    if (c.crashed) throw new Error(`${client} has crashed already`);
    c.crashed = true;
    c.life++;
    // What the dead process held in memory is gone; what it was processing is never acknowledged.
    c.waitingInMemory.length = 0;
    c.busy = 0;
    for (const t of c.timers) clearTimeout(t);
    c.timers.clear();
    c.link?.crash();
    c.link = undefined;
    await Promise.resolve();
  }

  async revive(client: string): Promise<void> {
    const c = this.consumerNamed(client);
    if (!c.crashed || this.closed) return;
    c.crashed = false;
    this.subscribe(c);
    // A broker that is away (restarting) does not stop the revival: the new consumer keeps trying.
    await c.link!.ready().catch(() => {});
  }

  private consumerNamed(name: string): Consumer {
    const c = this.consumers.find((x) => x.name === name);
    if (!c) throw new Error(`no client '${name}'; clients: ${this.consumers.map((x) => x.name).join(', ')}`);
    return c;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.pacer.stop(0, false);
    for (const c of this.consumers) {
      c.life++;
      for (const t of c.timers) clearTimeout(t);
    }
    // Publishes never answered: the producer never learned their fate.
    const now = performance.now();
    for (const [p, open] of this.outstanding) for (const s of open) this.sink.history(now, { ev: 'fail', p, s });
    const closing = [...this.producers.map((p) => p.link.close()), ...this.consumers.flatMap((c) => (c.link ? [c.link.close()] : []))];
    await Promise.allSettled(closing);
    await this.session.close();
  }
}
