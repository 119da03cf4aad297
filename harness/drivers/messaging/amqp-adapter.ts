import { once } from 'node:events';
import type { Socket } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Channel, ChannelModel, ConfirmChannel, Options } from 'amqplib';
import { z } from 'zod';
import type { Endpoint } from '../../base/endpoint.ts';
import type { Adapter } from '../driver.ts';
import { classifyError } from '../transport-errors.ts';
import { MessagingLoad, type BrokerSession, type ConsumerLink, type Delivery, type ProducerLink } from './messaging-load.ts';
import type { MessagingWorkload } from './messaging-workload.ts';

/** Client settings of a design the messaging workload reaches over AMQP 0-9-1 (RabbitMQ). */
export interface AmqpClientOptions {
  /** Exchange type the producers publish to; every consumer shares one queue bound to it. Default `direct`. */
  exchange: 'direct' | 'fanout' | 'topic';
  /** `classic` or `quorum` (replicated, always durable). Default `classic`. */
  queue: 'classic' | 'quorum';
  /** The queue survives a broker restart. Default: true for quorum queues, false for classic ones. */
  durable?: boolean;
  /** Messages are written to disk (delivery mode 2). Default false. */
  persistent: boolean;
  /** Publisher confirms: `none` (a publish counts once written to the connection), `each` (one at a time), or `window` (up to `confirmWindow` unconfirmed per producer). Default `none`. */
  confirms: 'none' | 'each' | 'window';
  /** Unconfirmed publishes per producer with `confirms: 'window'`. Default 100. */
  confirmWindow: number;
  /** `auto`: the broker forgets a message once sent (at most once); `manual`: the consumer acknowledges it after processing (at least once). Default `manual`. */
  ack: 'auto' | 'manual';
  /** Unacknowledged deliveries per consumer with manual acks (0: no limit). Default 100. */
  prefetch: number;
  /** Classic queues only: keep messages on disk rather than in memory (`x-queue-mode: lazy`). Default false. */
  lazy: boolean;
  /** Queue length limit (`x-max-length`); with it, `overflow` says what happens beyond it. */
  maxLength?: number;
  /** `drop-head` (the oldest go: lost) or `reject-publish` (new publishes are nacked). Default `drop-head`. */
  overflow: 'drop-head' | 'reject-publish';
  /** Heartbeat interval the client asks for (s): a silent broker is noticed after about two. Default 5. */
  heartbeat: number;
  /** Names of the exchange and the queue. Default `faultline`. */
  name: string;
}

const amqpClientSchema = z.strictObject({
  exchange: z.enum(['direct', 'fanout', 'topic']).default('direct'),
  queue: z.enum(['classic', 'quorum']).default('classic'),
  durable: z.boolean().optional(),
  persistent: z.boolean().default(false),
  confirms: z.enum(['none', 'each', 'window']).default('none'),
  confirmWindow: z.number().int().positive().max(100_000).default(100),
  ack: z.enum(['auto', 'manual']).default('manual'),
  prefetch: z.number().int().min(0).max(65_535).default(100),
  lazy: z.boolean().default(false),
  maxLength: z.number().int().positive().optional(),
  overflow: z.enum(['drop-head', 'reject-publish']).default('drop-head'),
  heartbeat: z.number().int().min(1).max(600).default(5),
  name: z.string().regex(/^[A-Za-z0-9._-]{1,200}$/, 'letters, digits, ., _ and -').default('faultline'),
}).check((ctx) => {
  const o = ctx.value;
  const issue = (path: string, message: string) => ctx.issues.push({ code: 'custom', input: o, path: [path], message });
  if (o.queue === 'quorum' && o.durable === false) issue('durable', 'quorum queues are always durable: remove durable: false or use a classic queue');
  if (o.queue === 'quorum' && o.lazy) issue('lazy', 'lazy is a classic-queue mode: remove it for a quorum queue');
  if (o.ack === 'auto' && o.prefetch !== 100) issue('prefetch', 'prefetch limits unacknowledged deliveries; with ack: auto the broker ignores it: remove it or use ack: manual');
});

/** A publish failure's error kind: the broker's nack, a closed channel, or the transport's kinds. */
export function classifyAmqpError(err: unknown): string {
  const message = (err as Error | undefined)?.message ?? '';
  if (/nack/i.test(message)) return 'nack';
  if (/closed|ended/i.test(message) && classifyError(err) === 'other') return 'reset';
  return classifyError(err);
}

/** A failed connect is not tried again sooner than this (ms): a dead broker costs a few attempts a second, not one per message. */
const RECONNECT_PAUSE_MS = 200;
const CONNECT_TIMEOUT_MS = 5000;

type Opened<C extends Channel> = { model: ChannelModel; ch: C; broken: boolean };

/**
 * Opens a connection and a channel (`make` creates it with `channel()` and declares what it
 * needs), marking both broken when either fails or closes. The listeners go on before anything
 * can fail: amqplib throws an 'error' nobody listens to (a declaration the broker refuses, say
 * a queue whose home node is down) out of its socket handler, which would end the process.
 */
async function openChannel<C extends Channel>(url: string, heartbeat: number, make: (m: ChannelModel, channel: (confirm: boolean) => Promise<Channel>) => Promise<C>): Promise<Opened<C>> {
  // Loaded on first use: listing or validating scenarios never opens a connection.
  const { default: amqp } = await import('amqplib');
  const model = await amqp.connect(url, { noDelay: true, timeout: CONNECT_TIMEOUT_MS, heartbeat } as Options.Connect & { noDelay: boolean; timeout: number });
  const opened = { model, ch: undefined as unknown as C, broken: false };
  const broke = (): void => {
    opened.broken = true;
  };
  model.on('error', broke);
  model.on('close', broke);
  const channel = async (confirm: boolean): Promise<Channel> => {
    const ch = confirm ? await model.createConfirmChannel() : await model.createChannel();
    ch.on('error', broke);
    ch.on('close', broke);
    return ch;
  };
  try {
    opened.ch = await make(model, channel);
  } catch (err) {
    await model.close().catch(() => {});
    throw err;
  }
  return opened;
}

/** Closes a connection without waiting for a broker that may be gone. */
function closeQuietly(o: Opened<Channel> | undefined): Promise<void> {
  if (!o) return Promise.resolve();
  const gaveUp = new AbortController();
  return Promise.race([o.model.close().catch(() => {}), sleep(1000, undefined, { signal: gaveUp.signal }).catch(() => {})]).then(() => {
    gaveUp.abort();
    cut(o.model, 'closed by faultline');
  });
}

function socketOf(model: ChannelModel): Socket | undefined {
  return (model as unknown as { connection?: { stream?: Socket } }).connection?.stream;
}

/**
 * Cuts a connection's socket. With an error: amqplib learns of a socket's end only from its
 * 'error' and 'end' events, so a plain destroy() would leave the connection open in its eyes,
 * its heartbeat timer running forever (and the process alive).
 */
function cut(model: ChannelModel, why: string): void {
  socketOf(model)?.destroy(new Error(why));
}

/** One confirm window: up to `size` publishes unconfirmed, the next waits for a slot. */
class Window {
  private used = 0;
  private readonly waiters: (() => void)[] = [];
  private readonly size: number;
  constructor(size: number) {
    this.size = size;
  }
  take(): Promise<void> | undefined {
    if (this.used < this.size) {
      this.used++;
      return undefined;
    }
    return new Promise((resolve) => this.waiters.push(resolve));
  }
  release(): void {
    const next = this.waiters.shift();
    if (next) next();
    else this.used--;
  }
}

class AmqpProducer implements ProducerLink {
  private opened: Promise<Opened<Channel>> | undefined;
  private failedAt = -Infinity;
  private readonly window: Window | undefined;
  /** Set while the channel's buffer is full: the next publish waits for it to drain. */
  private drained: Promise<void> | undefined;
  private closed = false;
  private readonly s: AmqpSession;
  /** Which of the design's endpoints it connects to next: its own first, the next one after each broken connection. */
  private slot: number;

  constructor(s: AmqpSession, index: number) {
    this.s = s;
    this.slot = index - 1;
    const o = s.options;
    this.window = o.confirms === 'none' ? undefined : new Window(o.confirms === 'each' ? 1 : o.confirmWindow);
  }

  private connection(): Promise<Opened<Channel>> {
    const current = this.opened;
    if (current) return current.then((o) => (o.broken ? this.reopen(current) : o), () => this.reopen(current));
    return this.reopen(undefined);
  }

  private reopen(was: Promise<Opened<Channel>> | undefined): Promise<Opened<Channel>> {
    // Publishes that found the same broken connection share one new one.
    if (this.opened !== was) return this.opened!;
    if (was) {
      void was.then(closeQuietly, () => {});
      this.slot++;
    }
    if (this.closed) return Promise.reject(new Error('producer closed'));
    const pause = this.failedAt + RECONNECT_PAUSE_MS - performance.now();
    const confirms = this.s.options.confirms !== 'none';
    this.opened = (pause > 0 ? sleep(pause) : Promise.resolve()).then(() =>
      openChannel<Channel>(this.s.url(this.slot), this.s.options.heartbeat, async (_m, channel) => {
        const ch = await channel(confirms);
        await this.s.declare(ch);
        return ch;
      }),
    );
    this.opened.catch(() => {
      this.failedAt = performance.now();
    });
    return this.opened;
  }

  async ready(): Promise<void> {
    await this.connection();
  }

  async publish(body: Buffer, key: number | undefined, handedOver: () => void): Promise<void> {
    const wait = this.window?.take();
    if (wait) await wait;
    let holding = this.window !== undefined;
    const release = (): void => {
      if (holding) this.window!.release();
      holding = false;
    };
    try {
      const o = await this.connection();
      while (this.drained) await this.drained;
      const options = { persistent: this.s.options.persistent };
      const routingKey = this.s.routingKey(key);
      await new Promise<void>((resolve, reject) => {
        const onConfirm = (err: unknown): void => {
          release();
          if (err) reject(err instanceof Error ? err : new Error(String(err)));
          else resolve();
        };
        let ok: boolean;
        if (this.window) ok = (o.ch as ConfirmChannel).publish(this.s.options.name, routingKey, body, options, onConfirm);
        else ok = o.ch.publish(this.s.options.name, routingKey, body, options);
        handedOver();
        if (!ok) this.waitForDrain(o);
        if (!this.window) resolve();
      });
    } finally {
      release();
    }
  }

  /** Respects back-pressure: later publishes wait until the channel drained (or closed). */
  private waitForDrain(o: Opened<Channel>): void {
    if (this.drained) return;
    const ac = new AbortController();
    this.drained = Promise.race([once(o.ch, 'drain', { signal: ac.signal }), once(o.ch, 'close', { signal: ac.signal })]).then(
      () => undefined,
      () => undefined,
    ).finally(() => {
      ac.abort();
      this.drained = undefined;
    });
  }

  async close(): Promise<void> {
    this.closed = true;
    const o = await this.opened?.catch(() => undefined);
    await closeQuietly(o);
  }
}

/** Pause between a consumer's reconnect attempts after its connection broke (ms). */
const RESUBSCRIBE_PAUSE_MS = 250;

class AmqpConsumer implements ConsumerLink {
  private opened: Opened<Channel> | undefined;
  private stopped = false;
  private readonly first: Promise<void>;
  private readonly s: AmqpSession;
  private readonly deliver: (d: Delivery) => void;
  /** As a producer's: its own endpoint first, the next one after each failure. */
  private slot: number;

  constructor(s: AmqpSession, index: number, deliver: (d: Delivery) => void) {
    this.s = s;
    this.slot = index - 1;
    this.deliver = deliver;
    // A consumer that cannot subscribe yet (a broker still booting after a restart) keeps
    // trying until it is closed, as a restarted consumer process would; `ready()` still reports
    // the first attempt's failure.
    this.first = this.subscribe();
    this.first.catch(() => void this.again());
  }

  /** Connects and subscribes; when the connection breaks later, subscribes again until stopped. */
  private async subscribe(): Promise<void> {
    const o = this.s.options;
    const opened = await openChannel<Channel>(this.s.url(this.slot), o.heartbeat, async (_m, channel) => {
      const ch = await channel(false);
      await this.s.declare(ch);
      if (o.ack === 'manual') await ch.prefetch(o.prefetch);
      return ch;
    });
    if (this.stopped) {
      await closeQuietly(opened);
      return;
    }
    this.opened = opened;
    const manual = o.ack === 'manual';
    await opened.ch.consume(o.name, (msg) => {
      if (!msg || this.stopped) return;
      this.deliver({
        body: msg.content,
        ack: () => {
          // An ack on a channel that broke is moot: the broker gives the message to someone again.
          if (manual && !opened.broken && !this.stopped) opened.ch.ack(msg);
        },
      });
    }, { noAck: !manual });
    opened.model.once('close', () => void this.again());
  }

  private async again(): Promise<void> {
    while (!this.stopped) {
      await sleep(RESUBSCRIBE_PAUSE_MS);
      if (this.stopped) return;
      this.slot++;
      try {
        await this.subscribe();
        return;
      } catch {
        // The broker is still away: try again after the pause.
      }
    }
  }

  ready(): Promise<void> {
    return this.first;
  }

  crash(): void {
    this.stopped = true;
    if (this.opened) cut(this.opened.model, 'consumer crashed');
  }

  async close(): Promise<void> {
    this.stopped = true;
    await closeQuietly(this.opened);
  }
}

/** One design's AMQP clients: the topology they declare, their producers and consumers. */
class AmqpSession implements BrokerSession {
  private readonly urls: string[];
  private admin: Promise<Opened<Channel>> | undefined;
  private adminSlot = 0;
  readonly options: AmqpClientOptions;

  constructor(endpoints: readonly Endpoint[], options: AmqpClientOptions) {
    this.options = options;
    this.urls = endpoints.map((e) => `amqp://guest:guest@${e.host.includes(':') ? `[${e.host}]` : e.host}:${e.port}`);
  }

  /** The endpoint for a client's `slot`: clients spread over a cluster's nodes and move on to the next when one fails. */
  url(slot: number): string {
    return this.urls[slot % this.urls.length]!;
  }

  /** Topic exchanges route by `m.<key>` (bound with `m.#`); direct ones by the queue's name; fanout ignores it. */
  routingKey(key: number | undefined): string {
    return this.options.exchange === 'topic' ? `m.${key ?? 0}` : this.options.name;
  }

  /**
   * Declares the exchange, the queue and its binding (idempotent). Every client does it on each
   * new connection, as applications do: a transient queue is gone after a broker restart, and a
   * confirmed publish to an exchange with no queue bound would count as delivered.
   */
  async declare(ch: Channel): Promise<void> {
    const o = this.options;
    const durable = o.durable ?? o.queue === 'quorum';
    await ch.assertExchange(o.name, o.exchange, { durable });
    const args: Record<string, unknown> = { 'x-queue-type': o.queue };
    if (o.lazy) args['x-queue-mode'] = 'lazy';
    if (o.maxLength !== undefined) {
      args['x-max-length'] = o.maxLength;
      args['x-overflow'] = o.overflow;
    }
    await ch.assertQueue(o.name, { durable, arguments: args });
    await ch.bindQueue(o.name, o.name, o.exchange === 'topic' ? 'm.#' : o.name);
  }

  async prepare(): Promise<void> {
    const setup = await openChannel<Channel>(this.url(0), this.options.heartbeat, async (_m, channel) => {
      const ch = await channel(false);
      await this.declare(ch);
      return ch;
    });
    await closeQuietly(setup);
  }

  producer(index: number): ProducerLink {
    return new AmqpProducer(this, index);
  }

  consumer(name: string, deliver: (d: Delivery) => void): ConsumerLink {
    return new AmqpConsumer(this, Number(/\d+$/.exec(name)?.[0] ?? '1'), deliver);
  }

  /** Ready messages in the queue, asked on a connection of its own; undefined while the broker cannot answer. */
  async waiting(): Promise<number | undefined> {
    try {
      if (!this.admin) {
        this.admin = openChannel<Channel>(this.url(this.adminSlot), this.options.heartbeat, (_m, channel) => channel(false));
        this.admin.catch(() => {});
      }
      const o = await this.admin;
      if (o.broken) {
        void closeQuietly(o);
        this.admin = undefined;
        return undefined;
      }
      const q = await o.ch.checkQueue(this.options.name);
      return q.messageCount;
    } catch {
      const was = this.admin;
      this.admin = undefined;
      this.adminSlot++;
      void was?.then(closeQuietly, () => {});
      return undefined;
    }
  }

  async close(): Promise<void> {
    const o = await this.admin?.catch(() => undefined);
    await closeQuietly(o);
  }
}

/** The `amqp` adapter of the messaging workload (amqplib, Nagle off). */
export const amqpAdapter: Adapter<MessagingWorkload, AmqpClientOptions> = {
  client: amqpClientSchema as unknown as z.ZodType<AmqpClientOptions>,
  create: (workload, ctx) => new MessagingLoad(workload, ctx, new AmqpSession(ctx.entry.endpoints, ctx.client), classifyAmqpError),
};
