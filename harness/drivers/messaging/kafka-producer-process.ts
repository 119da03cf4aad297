import { fork, type ChildProcess } from 'node:child_process';
import { ownFile } from '../../base/own-file.ts';
import type { MetricSink } from '../../metrics/sink.ts';
import type { DriverContext, LoadDriver, RunWindow } from '../driver.ts';
import { OpenPacer, type SendOne } from '../pacer.ts';
import { ACKED, HANDED_OVER, perfZeroNs, readBatch, type FailedMessage, type FromProducerProcess, type ProducerProcessSetup, type ToProducerProcess } from './kafka-producer-batch.ts';
import { BACKLOG, CONSUMED, MessagingLoad, PUBLISH_OP, PUBLISH_WAIT, type BrokerSession, type ClassifyFailure, type ProducerLink } from './messaging-load.ts';
import type { MessagingWorkload } from './messaging-workload.ts';

/** How often the producers' process reports what it recorded (ms): late enough to make batches, soon enough for the live line. */
const FLUSH_MS = 10;

/** How long a closing producers' process may take to stop librdkafka before it is killed all the same (ms). */
const CLOSE_BOUND_MS = 10_000;

/** Bytes of the producers' process's standard error kept for a failure's message. */
const STDERR_TAIL = 2000;

/** The producers' process's module, beside this one (`.ts` in the source tree, `.js` in the built package). */
const CHILD = ownFile('./kafka-producer-child.ts', import.meta.url);

/** What the producers' process is given: librdkafka and its settings. */
export interface ProducerProcessOptions {
  /** The `@confluentinc/kafka-javascript` package's folder. */
  packageDir: string;
  topic: string;
  /** librdkafka's settings, one per producer. */
  configs: Record<string, string | number | boolean>[];
  /** The error to report when librdkafka does not load there, from its message. */
  loadFailed: (message: string) => Error;
}

/**
 * One child process holding every producer of a design: started by `start()` (resolved once
 * each producer connected), ended by `close()`, which has it stop librdkafka and waits for it to
 * exit, on every path (killed when it does not answer). A producers' process that fails at any
 * time is ended the same way; the failure is kept for whoever waits on it next. It also ends
 * by itself when the driver's process goes (its IPC channel closes).
 */
class ProducerProcess {
  private child: ChildProcess | undefined;
  private starting: Promise<void> | undefined;
  private ending: Promise<void> | undefined;
  private failure: Error | undefined;
  private exited: Promise<void> | undefined;
  private hasExited = false;
  private stderr = '';
  private readonly waiters = new Map<'ready' | 'idle', { resolve: () => void; reject: (e: Error) => void }>();
  private closedReply: (() => void) | undefined;
  private readonly options: ProducerProcessOptions;
  private readonly setup: Pick<ProducerProcessSetup, 'size' | 'keys' | 'publishTimeoutMs' | 'window'>;
  private readonly onBatch: (data: Float64Array, records: number, failures: FailedMessage[]) => void;

  constructor(options: ProducerProcessOptions, setup: ProducerProcess['setup'], onBatch: ProducerProcess['onBatch']) {
    this.options = options;
    this.setup = setup;
    this.onBatch = onBatch;
  }

  /** Starts the producers' process and connects its producers (once; later calls return the same promise). */
  start(): Promise<void> {
    this.starting ??= new Promise<void>((resolve, reject) => {
      if (this.ending) return reject(new Error("the producers' process was closed before it started"));
      const o = this.options;
      this.waiters.set('ready', { resolve, reject });
      // Node's own options (type stripping, conditions) as this process has them; its standard error kept for a failure's message.
      const child = (this.child = fork(CHILD, [], { serialization: 'advanced', stdio: ['ignore', 'ignore', 'pipe', 'ipc'] }));
      child.stderr!.on('data', (b: Buffer) => {
        this.stderr = (this.stderr + b.toString()).slice(-STDERR_TAIL);
      });
      this.exited = new Promise((done) => child.once('exit', (code, signal) => {
        this.hasExited = true;
        this.closedReply?.();
        const tail = this.stderr.trim();
        this.fail(new Error(`the producers' process ended (${signal ?? `exit code ${code}`})${tail ? `: ${tail}` : ''}`), false);
        done();
      }));
      child.on('error', (err) => this.fail(new Error(`the producers' process failed: ${err.message}`), false));
      child.on('message', (m: FromProducerProcess) => this.message(m));
      const setup: ProducerProcessSetup = { ...this.setup, packageDir: o.packageDir, topic: o.topic, configs: o.configs, mainZeroNs: perfZeroNs(), flushMs: FLUSH_MS };
      child.send({ type: 'setup', setup });
    });
    return this.starting;
  }

  private message(m: FromProducerProcess): void {
    if (m.type === 'batch') return this.onBatch(m.data, m.records, m.failures);
    if (m.type === 'failed') return this.fail(m.stage === 'load' ? this.options.loadFailed(m.message) : new Error(m.stage === 'connect' ? m.message : `the producers' process failed: ${m.message}`), true);
    if (m.type === 'closed') return this.closedReply?.();
    const w = this.waiters.get(m.type);
    this.waiters.delete(m.type);
    w?.resolve();
  }

  /** Keeps the first failure, rejects whatever waits, and ends the producers' process (telling it to stop librdkafka first when it can still hear). */
  private fail(err: Error, alive: boolean): void {
    if (this.failure) return;
    this.failure = err;
    for (const w of this.waiters.values()) w.reject(err);
    this.waiters.clear();
    this.ending ??= this.end(alive);
  }

  /** The failure that ended the producers' process, if one did. */
  get failed(): Error | undefined {
    return this.failure;
  }

  post(m: ToProducerProcess): void {
    if (!this.failure && !this.ending && this.child?.connected) this.child.send(m);
  }

  /** Stops sending; resolves once every publish outstanding was answered or timed out (its last results reported), or after `boundMs`; rejects with the failure. */
  stop(boundMs: number): Promise<void> {
    if (this.failure) return Promise.reject(this.failure);
    if (!this.child) return Promise.resolve();
    return new Promise<void>((resolve, reject) => {
      const t = setTimeout(() => {
        this.waiters.delete('idle');
        resolve();
      }, boundMs);
      this.waiters.set('idle', {
        resolve: () => {
          clearTimeout(t);
          resolve();
        },
        reject: (e) => {
          clearTimeout(t);
          reject(e);
        },
      });
      this.post({ type: 'stop' });
    });
  }

  /** Stops librdkafka there and waits until the producers' process exited; after a failure, waits for the end the failure began. Never rejects. */
  close(): Promise<void> {
    this.ending ??= this.end(true);
    return this.ending;
  }

  /** `alive`: the producers' process still hears, so it is told to stop librdkafka and exit (bounded) before it is killed. */
  private async end(alive: boolean): Promise<void> {
    const child = this.child;
    if (!child || this.hasExited) return;
    if (alive && child.connected) {
      await new Promise<void>((resolve) => {
        const t = setTimeout(resolve, CLOSE_BOUND_MS);
        this.closedReply = () => {
          clearTimeout(t);
          resolve();
        };
        child.send({ type: 'close' } satisfies ToProducerProcess);
      });
    }
    const killing = setTimeout(() => child.kill('SIGKILL'), alive ? CLOSE_BOUND_MS : 0);
    await this.exited;
    clearTimeout(killing);
  }
}

/** A producer link for the consumer side's MessagingLoad, which never sends: the producers' process does. Ready once its producers are. */
class ElsewhereLink implements ProducerLink {
  private readonly producing: ProducerProcess;
  constructor(producing: ProducerProcess) {
    this.producing = producing;
  }

  ready(): Promise<void> {
    return this.producing.start();
  }

  publish(): Promise<void> {
    return Promise.reject(new Error("a producer of the producers' process publishes there"));
  }

  async close(): Promise<void> {}
}

/**
 * The sink as the consumer side records into it: the same sink, with every first receipt
 * (the `consumed` count, warm-up included) also counted here for the backlog gauge.
 */
function countingConsumed(sink: MetricSink, consumed: (n: number) => void): MetricSink {
  const count = (name: string, atMs: number, n = 1): void => {
    if (name === CONSUMED) consumed(n);
    sink.count(name, atMs, n);
  };
  const bound = new Map<PropertyKey, unknown>([['count', count]]);
  return new Proxy(sink, {
    get: (target, prop) => {
      if (bound.has(prop)) return bound.get(prop);
      const v: unknown = Reflect.get(target, prop, target);
      if (typeof v !== 'function') return v;
      const f = (v as (...args: unknown[]) => unknown).bind(target);
      bound.set(prop, f);
      return f;
    },
  });
}

/**
 * The messaging workload with its producers in a child process (client `confluent`,
 * `producerProcess`): librdkafka's producers, their sends and delivery reports and the publish
 * timeout run there, and this process records what that one reports every `FLUSH_MS` into the
 * same sink calls and history records as MessagingLoad's own producers make. Consumers, the
 * drain and crash faults are a MessagingLoad's, whose producer links only wait for the
 * producers' process. Closed model: the producers' process keeps the window of publishes
 * outstanding itself. Open model: this process's pacer makes messages due and forwards them
 * once per turn of its event loop; the producers' process publishes them as they come (latency
 * counts from the due time, the forwarding included).
 *
 * A child process and not a worker thread: the package's addon runs its callbacks on the
 * process's main event loop (libuv's default loop), whatever thread made the producer, so a
 * producer in a worker thread crashes the process at its first delivery report.
 *
 * What differs from MessagingLoad's producers: an acknowledgement's history time is when its
 * delivery report came (not when this process read it), an acknowledgement reported after the
 * window closed counts as a late response even when it came before (up to `FLUSH_MS` of them),
 * and the load generator's CPU in the resources this process measures leaves out the producers'
 * process.
 */
export class ProducerProcessLoad implements LoadDriver {
  readonly model: 'open' | 'closed';
  readonly connections: number;
  readonly targetRate?: number;
  private readonly consumerSide: MessagingLoad;
  private readonly producing: ProducerProcess;
  private readonly sink: MetricSink;
  private readonly classify: ClassifyFailure;
  private readonly pacer: OpenPacer | undefined;
  private readonly producers: number;
  private readonly keys: number | undefined;
  private readonly publishTimeoutMs: number;
  /** By producer number: the highest sequence number sent, the answered ones (one byte a message), and the lowest perhaps not answered. */
  private readonly sentUpTo: number[] = [];
  private readonly answered: Uint8Array[] = [];
  private readonly lowest: number[] = [];
  /** Open model: the pacer's completion of each message in flight, by producer × 2³² + sequence number. */
  private readonly done = new Map<number, () => void>();
  /** Open model: due messages not yet forwarded to the producers' process, `SEND_FIELDS` numbers each. */
  private forward: number[] = [];
  private acked = 0;
  private consumed = 0;
  private closed = false;

  constructor(workload: MessagingWorkload, ctx: DriverContext<unknown>, session: BrokerSession, classify: ClassifyFailure, options: ProducerProcessOptions & { publishTimeoutMs: number }) {
    this.sink = ctx.sink;
    this.classify = classify;
    this.producers = workload.producers ?? 1;
    this.keys = workload.keys;
    this.publishTimeoutMs = options.publishTimeoutMs;
    for (let p = 1; p <= this.producers; p++) {
      this.sentUpTo[p] = 0;
      this.answered[p] = new Uint8Array(1024);
      this.lowest[p] = 1;
    }
    const window = workload.model === 'closed' ? this.producers * (workload.inFlight ?? 1) : undefined;
    this.producing = new ProducerProcess(options, { size: workload.messageSize ?? 1024, keys: workload.keys, publishTimeoutMs: options.publishTimeoutMs, window }, this.batch);
    const links = new ElsewhereLink(this.producing);
    this.consumerSide = new MessagingLoad(workload, { ...ctx, sink: countingConsumed(ctx.sink, (n) => (this.consumed += n)) }, {
      prepare: () => session.prepare(),
      producer: () => links,
      consumer: (name, deliver) => session.consumer(name, deliver),
      waiting: () => session.waiting(),
      close: () => session.close(),
    }, classify);
    // Replaces the consumer side's, whose producers acknowledge nothing.
    this.sink.gauge(BACKLOG, () => Math.max(0, this.acked - this.consumed));
    this.model = workload.model;
    this.connections = this.consumerSide.connections;
    if (workload.model === 'open') {
      this.pacer = new OpenPacer(workload, { sink: ctx.sink, send: this.send });
      this.targetRate = this.pacer.targetRate;
    }
  }

  /** The topic, the consumers, and the producers' process with its producers connected (after the topic exists, as the consumer side orders it). */
  prepare(): Promise<void> {
    return this.consumerSide.prepare();
  }

  start(window: RunWindow): void {
    if (this.pacer) this.pacer.start(window);
    else this.producing.post({ type: 'start', endMs: window.endMs });
  }

  private readonly send: SendOne = (k, dueMs, done) => {
    const p = (k % this.producers) + 1;
    const s = ++this.sentUpTo[p]!;
    this.done.set(p * 2 ** 32 + s, done);
    if (this.forward.length === 0) queueMicrotask(this.forwardDue);
    this.forward.push(p, s, dueMs, this.keys === undefined ? -1 : k % this.keys);
  };

  private readonly forwardDue = (): void => {
    if (this.forward.length === 0) return;
    const data = Float64Array.from(this.forward);
    this.forward = [];
    this.producing.post({ type: 'send', data });
  };

  /** Records one batch of the producers' process's results, in the order it wrote them. */
  private readonly batch = (data: Float64Array, records: number, failures: FailedMessage[]): void => {
    readBatch(data, records, this.record);
    for (const f of failures) {
      if (!this.answer(f.producer, f.seq)) continue;
      const kind = f.error ? this.classify(Object.assign(new Error(f.error.message), f.error.code === undefined ? {} : { code: f.error.code }, f.error.type === undefined ? {} : { type: f.error.type })) : 'timeout';
      this.sink.op(PUBLISH_OP, f.dueMs, Math.round((f.atMs - f.dueMs) * 1000), kind);
      this.sink.history(f.atMs, { ev: 'fail', p: `p${f.producer}`, s: f.seq });
    }
  };

  private readonly record = (kind: number, p: number, s: number, dueMs: number, atMs: number): void => {
    if (kind === HANDED_OVER) {
      if (!this.pacer) {
        // The closed model's send, made there: sent when due.
        if (s > this.sentUpTo[p]!) this.sentUpTo[p] = s;
        if (!this.closed) this.sink.sent(dueMs, 0);
      }
      if (!this.closed) this.sink.value(PUBLISH_WAIT, dueMs, Math.round((atMs - dueMs) * 1000));
    } else if (kind === ACKED && this.answer(p, s)) {
      this.acked++;
      this.sink.op(PUBLISH_OP, dueMs, Math.round((atMs - dueMs) * 1000), 'ok');
      this.sink.history(atMs, { ev: 'ack', p: `p${p}`, s });
    }
  };

  /** Marks message `s` of producer `p` answered and frees its slot; false after close (its failure is written then) or when it was answered before. */
  private answer(p: number, s: number): boolean {
    if (this.closed) return false;
    let bits = this.answered[p]!;
    if (s >= bits.length) {
      const grown = new Uint8Array(Math.max(bits.length * 2, s + 1));
      grown.set(bits);
      this.answered[p] = bits = grown;
    }
    if (bits[s] === 1) return false;
    bits[s] = 1;
    let low = this.lowest[p]!;
    while (bits[low] === 1) low++;
    this.lowest[p] = low;
    if (this.pacer) {
      const key = p * 2 ** 32 + s;
      const done = this.done.get(key);
      this.done.delete(key);
      done?.();
    }
    return true;
  }

  /** Stops sending and waits for publishes in flight (at most their timeout); a producers' process that failed fails the run here. */
  async stop(): Promise<void> {
    const bound = this.publishTimeoutMs + 1000;
    const pacing = this.pacer?.stop(bound);
    // What the pacer made due on stopping goes before the stop.
    this.forwardDue();
    await Promise.all([pacing, this.producing.stop(bound)]);
    if (this.producing.failed) throw this.producing.failed;
  }

  drain(deadlineMs: number): Promise<boolean> {
    return this.consumerSide.drain(deadlineMs);
  }

  crash(client: string): Promise<void> {
    return this.consumerSide.crash(client);
  }

  revive(client: string): Promise<void> {
    return this.consumerSide.revive(client);
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    try {
      await this.pacer?.stop(0, false);
      // Its last batch comes before it says it closed: every send it made is known here.
      await this.producing.close();
    } finally {
      // Publishes never answered: the producer never learned their fate.
      const now = performance.now();
      for (let p = 1; p <= this.producers; p++) {
        const bits = this.answered[p]!;
        for (let s = this.lowest[p]!; s <= this.sentUpTo[p]!; s++) if (bits[s] !== 1) this.sink.history(now, { ev: 'fail', p: `p${p}`, s });
      }
      await this.consumerSide.close();
    }
  }
}
