// The producers' process of a Kafka design with client `confluent` and `producerProcess`: its
// librdkafka producers, the closed model's window of outstanding publishes (or the open model's
// sends, which the driver's pacer makes due), the publish timeout, and the delivery reports,
// reported to the driver's process in batches (kafka-producer-batch.ts). Every time it reports,
// and every due time it writes into a message, is on the driver's performance.now() clock, so
// the consumers' end-to-end latency reads the same clock.
import { createRequire } from 'node:module';
import { writeMessageHeader } from './messaging-workload.ts';
import { ACKED, BatchWriter, clockOffsetMs, HANDED_OVER, perfZeroNs, SEND_FIELDS, type FailedMessage, type FromProducerProcess, type ProducerProcessSetup, type ToProducerProcess } from './kafka-producer-batch.ts';

/** The part of the package's node-rdkafka Producer this process uses (as kafka-adapter.ts's ConfluentProducerLink). */
interface RdProducer {
  connect(metadata: { topic: string; timeout: number }, cb: (err: unknown) => void): unknown;
  setPollInBackground(on: boolean): unknown;
  produce(topic: string, partition: null, value: Buffer, key: Buffer | string | null, timestamp: null, opaque: Outstanding): unknown;
  on(event: 'delivery-report', listener: (err: unknown, report: { opaque?: Outstanding }) => void): unknown;
  disconnect(timeoutMs: number, cb: () => void): unknown;
}

interface Rd {
  Producer: new (config: Readonly<Record<string, string | number | boolean>>) => RdProducer;
  CODES: { ERRORS: Readonly<Record<string, number>> };
}

/** A publish handed to librdkafka and not yet answered. */
interface Outstanding {
  producer: number;
  seq: number;
  dueMs: number;
}

const send = (m: FromProducerProcess): void => {
  process.send!(m);
};
const setup = await new Promise<ProducerProcessSetup>((resolve) => process.once('message', (m: { type: 'setup'; setup: ProducerProcessSetup }) => resolve(m.setup)));
const post = send;
// This process's performance.now() plus this is the driver's.
const offsetMs = clockOffsetMs(setup.mainZeroNs, perfZeroNs());
const now = (): number => performance.now() + offsetMs;

let rd: Rd | undefined;
try {
  rd = createRequire(import.meta.url)(setup.packageDir) as Rd;
} catch (err) {
  // The process stays until the driver, told, ends it.
  post({ type: 'failed', stage: 'load', message: err instanceof Error ? err.message : String(err) });
}
const errorNames = new Map(Object.entries(rd?.CODES.ERRORS ?? {}).map(([name, code]) => [code, name]));
const producers = rd ? setup.configs.map((config) => new rd!.Producer(config)) : [];
const open = new Set<Outstanding>();
const seqs = producers.map(() => 0);
const batch = new BatchWriter();
let failures: FailedMessage[] = [];
let stopped = false;
let closing = false;
let endMs = -Infinity;
/** The closed model's operation number: message k goes to producer k mod producers, with key k mod keys. */
let k = 0;
let timeoutTimer: NodeJS.Timeout | undefined;
let refill: NodeJS.Immediate | undefined;

function flush(): void {
  if (batch.records === 0 && failures.length === 0) return;
  const { data, records } = batch.take();
  post({ type: 'batch', data, records, failures });
  failures = [];
}

function settle(m: Outstanding, error: FailedMessage['error'] | null): void {
  if (!open.delete(m)) return;
  if (error === null) batch.push(ACKED, m.producer, m.seq, m.dueMs, now());
  else failures.push({ producer: m.producer, seq: m.seq, dueMs: m.dueMs, atMs: now(), ...(error ? { error } : {}) });
  if (stopped) {
    if (open.size === 0 && !closing) {
      flush();
      post({ type: 'idle' });
    }
  } else if (setup.window !== undefined) {
    fill();
  }
}

/** librdkafka's error with its code's name, which the driver's classification reads. */
function described(err: unknown): NonNullable<FailedMessage['error']> {
  const code = (err as { code?: unknown } | undefined)?.code;
  const type = typeof code === 'number' ? errorNames.get(code) : undefined;
  return { message: err instanceof Error ? err.message : String(err), ...(typeof code === 'number' ? { code } : {}), ...(type ? { type } : {}) };
}

/** Fails, as timed out, every publish outstanding longer than the publish timeout; wakes again for the oldest one left. */
function expire(): void {
  timeoutTimer = undefined;
  const t = now();
  // Outstanding publishes are in the order they became due.
  for (const m of open) {
    if (m.dueMs + setup.publishTimeoutMs > t) break;
    settle(m, undefined);
  }
  armTimeout();
}

function armTimeout(): void {
  if (timeoutTimer || open.size === 0) return;
  const oldest = open.values().next().value!;
  timeoutTimer = setTimeout(expire, Math.max(0, oldest.dueMs + setup.publishTimeoutMs - now()));
}

let scratch: Buffer | undefined;
/** The one message buffer: the workload's size, zeros after the header. */
function message(): Buffer {
  return (scratch ??= Buffer.alloc(setup.size));
}

const keys: Buffer[] = [];
/** Key `k<n>` as bytes, the same partition as the string gives. */
function keyBytes(key: number): Buffer {
  return (keys[key] ??= Buffer.from(`k${key}`));
}

function publish(producer: number, seq: number, dueMs: number, key: number | undefined): void {
  const m: Outstanding = { producer, seq, dueMs };
  open.add(m);
  try {
    // librdkafka copies the value and the key as it takes the message (RK_MSG_COPY), so one
    // buffer serves every message and each key's bytes are made once.
    producers[producer - 1]!.produce(setup.topic, null, writeMessageHeader(message(), { producer, seq, dueMs, key }), key === undefined ? null : keyBytes(key), null, m);
  } catch (err) {
    settle(m, described(err));
    return;
  }
  batch.push(HANDED_OVER, producer, seq, dueMs, now());
  armTimeout();
}

/** The closed model: sends until `window` publishes are outstanding or the window ended. */
function fill(): void {
  const window = setup.window!;
  while (!stopped && open.size < window) {
    const t = now();
    if (t >= endMs) return;
    const index = k++;
    const p = (index % producers.length) + 1;
    const before = open.size;
    publish(p, ++seqs[p - 1]!, t, setup.keys === undefined ? undefined : index % setup.keys);
    // A publish refused at once (librdkafka's queue full): the next one on a new turn of the
    // event loop, as the driver's closed loops do, so refusals cannot spin.
    if (open.size === before) {
      refill ??= setImmediate(() => {
        refill = undefined;
        fill();
      });
      return;
    }
  }
}

function sendDue(data: Float64Array): void {
  for (let i = 0; i < data.length; i += SEND_FIELDS) {
    const key = data[i + 3]!;
    publish(data[i]!, data[i + 1]!, data[i + 2]!, key < 0 ? undefined : key);
  }
}

async function close(): Promise<void> {
  stopped = true;
  closing = true;
  if (timeoutTimer) clearTimeout(timeoutTimer);
  if (refill) clearImmediate(refill);
  clearInterval(flusher);
  flush();
  // No wait for what librdkafka still holds: the driver writes those as failed. A producer
  // whose connect failed throws here: it has nothing to stop.
  await Promise.all(producers.map((p) => new Promise<void>((resolve) => {
    try {
      p.disconnect(0, () => resolve());
    } catch {
      resolve();
    }
  })));
  // Ends once the driver has read it: nothing of librdkafka is left.
  process.send!({ type: 'closed' } satisfies FromProducerProcess, () => process.exit(0));
}

process.on('message', (m: ToProducerProcess) => {
  try {
    if (m.type === 'start') {
      endMs = m.endMs;
      fill();
    } else if (m.type === 'send') {
      if (!stopped) sendDue(m.data);
    } else if (m.type === 'stop') {
      stopped = true;
      if (open.size === 0) {
        flush();
        post({ type: 'idle' });
      }
    } else {
      void close();
    }
  } catch (err) {
    post({ type: 'failed', stage: 'run', message: err instanceof Error ? (err.stack ?? err.message) : String(err) });
  }
});

const flusher = setInterval(flush, setup.flushMs);

// Whatever fails here is reported, and the driver closes this process.
process.on('uncaughtException', (err) => post({ type: 'failed', stage: 'run', message: err.stack ?? err.message }));
// The driver's process ended or let go: stop librdkafka and end.
process.on('disconnect', () => {
  if (!closing) void close().finally(() => process.exit(0));
});

if (rd) {
  try {
    for (const p of producers) p.on('delivery-report', (err, report) => report.opaque && settle(report.opaque, err ? described(err) : null));
    await Promise.all(producers.map((p) => new Promise<void>((resolve, reject) => {
      p.connect({ topic: setup.topic, timeout: 10_000 }, (err) => {
        if (err) return reject(new Error(`librdkafka's producer did not connect: ${described(err).message}`));
        p.setPollInBackground(true);
        resolve();
      });
    })));
    post({ type: 'ready' });
  } catch (err) {
    post({ type: 'failed', stage: 'connect', message: err instanceof Error ? err.message : String(err) });
  }
}
