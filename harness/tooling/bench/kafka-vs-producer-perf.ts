// Benchmark (not a test): faultline's Kafka producer and consumer (the messaging workload's
// `kafka` adapter) next to Kafka's own ProducerPerformance and ConsumerPerformance, against one
// broker of the `kafka` target, one tool after the other. Producers: faultline with each client
// (`faultline`: kafkajs, the adapter batching; `faultline-confluent`: librdkafka batching;
// `faultline-confluent-process`: the same with `producerProcess`, librdkafka's producer, its
// sends and delivery reports in a child process, the driver recording what it reports), the
// same record size, acks, linger, batch size and requests in flight, each on a fresh topic, as
// fast as the broker acknowledges, with as many records outstanding; a run of kafkajs alone (its
// send() in a loop, nothing around it) tells the client's share from the adapter's. Consumers
// (kafkajs with either client): both read the same records of the topic faultline's last
// producer run filled.
//   node harness/tooling/bench/kafka-vs-producer-perf.ts [--duration 10s] [--records 300000] [--size 1024]
//     [--acks all|1] [--linger-ms 5] [--batch-size 500] [--max-in-flight 5] [--in-flight 3000]
//     [--buffer-memory BYTES] [--partitions 1] [--commit auto|each]
//     [--order faultline,faultline-confluent,perf,kafkajs,faultline-confluent,faultline]
//     (a producer run may also be faultline-confluent-process)
//     [--quiet-wait 5s]
import { createReadStream, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { availableParallelism } from 'node:os';
import { createInterface } from 'node:readline';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { CompressionTypes, Kafka, logLevel } from 'kafkajs';
import { kafkaSpec } from '../../../targets/kafka/kafka.ts';
import { parseDuration } from '../../base/duration.ts';
import { topicLed } from '../../drivers/messaging/kafka-adapter.ts';
import { messagingDriver } from '../../drivers/messaging/messaging-driver.ts';
import { PUBLISH_OP } from '../../drivers/messaging/messaging-load.ts';
import { encodeMessage, messaging } from '../../drivers/messaging/messaging-workload.ts';
import { ResourceSampler } from '../../metrics/resource-sampler.ts';
import { LOAD_GENERATOR } from '../../result/result.ts';
import { formatLatency } from '../../result/format.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import type { Endpoint, StartedService } from '../../runtime/runtime.ts';
import { drive } from '../../testing/drive.ts';
import { topicHolds, withKafkaAdmin } from '../../testing/kafka-truth.ts';
import { findMavenTool, mavenTools } from '../setup/maven-tools.mjs';
import { findNpmTool, npmTools } from '../../base/npm-tools.mjs';
import { benchScratch, javaVersion, optionChecks, runProgram, stopProgram, waitQuiet, withCpu, type Cpu } from './bench-helpers.ts';

const { fail, positiveInt } = optionChecks('kafka-vs-producer-perf');

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10s' },
    records: { type: 'string', default: '300000' },
    size: { type: 'string', default: '1024' },
    acks: { type: 'string', default: 'all' },
    'linger-ms': { type: 'string', default: '5' },
    'batch-size': { type: 'string', default: '500' },
    'max-in-flight': { type: 'string', default: '5' },
    'in-flight': { type: 'string' },
    'buffer-memory': { type: 'string' },
    partitions: { type: 'string', default: '1' },
    commit: { type: 'string', default: 'auto' },
    order: { type: 'string', default: 'faultline,faultline-confluent,perf,kafkajs,faultline-confluent,faultline' },
    'quiet-wait': { type: 'string', default: '5s' },
  },
});
const durationMs = parseDuration(values.duration) ?? fail(`--duration '${values.duration}' is not a duration; use e.g. 10s`);
if (durationMs < 1000) fail(`--duration '${values.duration}' must be at least 1s`);
const records = positiveInt('records', values.records);
const size = positiveInt('size', values.size);
// faultline's messages carry a 21-byte header and are at least 32 bytes.
if (size < 32) fail(`--size ${size}: at least 32 bytes`);
if (values.acks !== 'all' && values.acks !== '1') fail(`--acks '${values.acks}' must be all or 1`);
const acks = values.acks === 'all' ? ('all' as const) : (1 as const);
const lingerMs = Number(values['linger-ms']);
if (!Number.isInteger(lingerMs) || lingerMs < 0 || lingerMs > 1000) fail(`--linger-ms '${values['linger-ms']}' must be a whole number from 0 to 1000`);
const batchSize = positiveInt('batch-size', values['batch-size']);
const maxInFlight = positiveInt('max-in-flight', values['max-in-flight']);
// Every request slot full and one more batch gathering.
const inFlight = values['in-flight'] === undefined ? (maxInFlight + 1) * batchSize : positiveInt('in-flight', values['in-flight']);
const partitions = positiveInt('partitions', values.partitions);
if (values.commit !== 'auto' && values.commit !== 'each') fail(`--commit '${values.commit}' must be auto or each`);
const autoCommit = values.commit === 'auto';
const quietWaitMs = parseDuration(values['quiet-wait']) ?? fail(`--quiet-wait '${values['quiet-wait']}' is not a duration; use e.g. 5s, or 0s not to wait`);
const TOOLS = ['faultline', 'faultline-confluent', 'faultline-confluent-process', 'perf', 'kafkajs'] as const;
type Tool = (typeof TOOLS)[number];
/** faultline's producer runs, by the client option they give the adapter. */
const FAULTLINE_CLIENT = {
  faultline: { client: 'kafkajs' },
  'faultline-confluent': { client: 'confluent' },
  'faultline-confluent-process': { client: 'confluent', producerProcess: true },
} as const;
const isConfluent = (t: Tool): boolean => t === 'faultline-confluent' || t === 'faultline-confluent-process';
const isFaultline = (t: Tool): t is keyof typeof FAULTLINE_CLIENT => t in FAULTLINE_CLIENT;
const order = values.order.split(',').map((t) => t.trim()) as Tool[];
if (order.length === 0 || order.some((t) => !TOOLS.includes(t))) fail(`--order '${values.order}' must list ${TOOLS.join(', ')}, comma-separated`);
if (!order.some(isFaultline)) fail(`--order '${values.order}': the consumers read what a faultline run produced, so list faultline, faultline-confluent or faultline-confluent-process at least once`);
/** Other processes using more than this many cores during a run make its comparison unfair. */
const BUSY_CORES = 0.2;
/**
 * The Java producer's `batch.size` is in bytes per partition, faultline's `batchSize` in
 * records per request: a record of the v2 format costs its value and at most ~12 bytes of
 * lengths and deltas, a batch 61 bytes of header, so `batchSize` records of `size` fit.
 */
const RECORD_OVERHEAD = 12;
const batchBytes = 61 + batchSize * (size + RECORD_OVERHEAD);
/**
 * The Java producer holds records in `buffer.memory` (32 MiB by default: ~30,000 records of
 * 1 KiB, waiting hundreds of ms) and blocks send() when it is full. By default it gets room for
 * the records faultline keeps outstanding, so both queue as much and their latencies compare.
 */
const bufferMemory = values['buffer-memory'] === undefined ? Math.max(inFlight * (size + RECORD_OVERHEAD), batchBytes) : positiveInt('buffer-memory', values['buffer-memory']);
/** The JVM's heap for the tools, as Kafka's own perf-test scripts give them. */
const TOOL_HEAP = '-Xmx512m';

const kafkaTool = mavenTools.find((t) => t.name === 'kafka')!;
const toolClassPath = findMavenTool(kafkaTool) ?? fail(`the Kafka jars ${kafkaTool.version} are not installed: npm run setup (it fetches ${kafkaTool.groupId}:${kafkaTool.artifactId}:${kafkaTool.version} and kafka-tools with mvn)`);
const confluentTool = npmTools.find((t) => t.name === 'confluent-kafka-javascript')!;
/** The package and the librdkafka it built, for the label of faultline-confluent runs. */
const confluentVersion = ((): string => {
  if (!order.some(isConfluent)) return '';
  const dir = findNpmTool(confluentTool) ?? fail(`--order has faultline-confluent or faultline-confluent-process, and ${confluentTool.package} ${confluentTool.version} is not installed: npm run setup (it builds it into faultline's tool cache), or leave them out`);
  const pkg = JSON.parse(readFileSync(join(dir, 'package.json'), 'utf8')) as { version: string; librdkafka?: string };
  return `librdkafka ${pkg.librdkafka ?? '?'} through ${confluentTool.package} ${pkg.version}`;
})();

/** One producer run's figures; latencies in µs. */
interface ProducerRow {
  run: number;
  tool: Tool;
  topic: string;
  /** Records acknowledged per second over the run. */
  rate: number;
  latencyUs: { p50: number; p99: number; max: number };
  /** Records the tool says were acknowledged. */
  acked: number;
  /** Records the topic holds afterwards, by the broker's end offsets. */
  held: number;
  /** CPU per acknowledged record (µs): the client's, the broker's. */
  cpuUsPerRecord: { client: number; broker: number };
  cpu: Cpu;
  note: string;
}

interface ConsumerRow {
  tool: Tool;
  records: number;
  /** Records per second from the first to the last record (faultline) or over the fetch time (ConsumerPerformance). */
  rate: number;
  /** The same including connecting and joining the group. */
  rateWithJoin: number;
  cpu: Cpu;
  note: string;
}

function quiet(broker: StartedService): Promise<void> {
  return waitQuiet(async () => (await withCpu(broker, () => sleep(1000))).cpu.others, quietWaitMs, BUSY_CORES);
}

/** A silent kafkajs client of the broker. */
function kafkaClient(ep: Endpoint, clientId: string): Kafka {
  return new Kafka({ clientId, brokers: [`${ep.host}:${ep.port}`], logLevel: logLevel.NOTHING });
}

function createTopic(ep: Endpoint, topic: string): Promise<boolean> {
  return withKafkaAdmin(ep, async (a) => {
    const created = await a.createTopics({ topics: [{ topic, numPartitions: partitions }] });
    await topicLed(a, topic, partitions);
    return created;
  });
}

/** faultline's client options; the Java producer's properties and kafkajs's send() say the same. */
function clientOptions(topic: string, commit: boolean, client: (typeof FAULTLINE_CLIENT)[keyof typeof FAULTLINE_CLIENT] = FAULTLINE_CLIENT.faultline) {
  return { ...client, name: topic, partitions, acks, lingerMs, batchSize, maxInFlight, idempotent: false, compression: 'none', autoCommit: commit };
}

function percentile(sorted: Float64Array, q: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor(q * sorted.length))] ?? NaN;
}

/** A run's figures before its CPU: a tool that measured its own per-record CPU over a narrower span than the whole run gives it. */
type ProducerRun = Omit<ProducerRow, 'cpu' | 'cpuUsPerRecord'> & { cpuUsPerRecord?: Partial<ProducerRow['cpuUsPerRecord']> };

async function faultlineProducer(ep: Endpoint, broker: StartedService, run: number, topic: string, tool: keyof typeof FAULTLINE_CLIENT): Promise<ProducerRun> {
  // Closed model: `inFlight` publishes outstanding. The consumer every messaging drive has takes
  // the topic's first record and works on it for the rest of the run: it joins the group and
  // then fetches nothing more, so this process spends its CPU on producing, as
  // ProducerPerformance does, and the group has committed nothing when the consumers read the
  // topic afterwards.
  const workload = messaging({ model: 'closed', inFlight, producers: 1, consumers: 1, messageSize: size, processingTime: '1h', drainTimeout: '0s' });
  // The window's CPU only: not the connecting before it, nor the delivery checker after it.
  const sampler = new ResourceSampler(new Map([['kafka', broker]]));
  const r = await drive(messagingDriver, 'kafka', [ep], workload, clientOptions(topic, false, FAULTLINE_CLIENT[tool]), { windowMs: durationMs, sampler });
  const publish = r.summary.byOperation[PUBLISH_OP] ?? r.summary.totals;
  const cost = sampler.summary(publish.ok).byService;
  const failures = r.summary.totals.errors > 0 ? `; ${r.summary.totals.errors} publishes failed: ${JSON.stringify(r.summary.totals.errorsByKind)}` : '';
  return {
    run,
    tool,
    topic,
    rate: publish.throughput,
    latencyUs: { p50: publish.latencyUs.p50, p99: publish.latencyUs.p99, max: publish.latencyUs.max },
    acked: publish.ok,
    held: await topicHolds(ep, topic),
    // The sampler measures this process only: with producerProcess the client's CPU is the whole run's, the producers' process (a reaped child) included.
    cpuUsPerRecord: { client: tool === 'faultline-confluent-process' ? undefined : cost[LOAD_GENERATOR]?.cpuUsPerOp ?? undefined, broker: cost.kafka?.cpuUsPerOp ?? undefined },
    note: `${publish.ok.toLocaleString('en-US')} acknowledged in ${durationMs / 1000} s; CPU per record over ${tool === 'faultline-confluent-process' ? "the whole drive, the producers' process included" : 'the window'}${failures}`,
  };
}

/**
 * kafkajs alone: `maxInFlight` loops, each sending `batchSize` records (built as faultline
 * builds them) in one send() and waiting for its acknowledgement. No queue in front of it, no
 * metrics: what the client reaches with these settings.
 */
async function kafkajsAlone(ep: Endpoint, run: number, topic: string): Promise<ProducerRun> {
  await createTopic(ep, topic);
  const producer = kafkaClient(ep, 'bench-kafkajs').producer({ idempotent: false, maxInFlightRequests: maxInFlight, allowAutoTopicCreation: false });
  await producer.connect();
  const latencies: number[] = [];
  let sent = 0;
  let seq = 0;
  const began = performance.now();
  const endMs = began + durationMs;
  const cpu0 = process.cpuUsage();
  try {
    await Promise.all(Array.from({ length: maxInFlight }, async () => {
      while (performance.now() < endMs) {
        const at = performance.now();
        const messages = Array.from({ length: batchSize }, () => ({ value: encodeMessage({ producer: 1, seq: ++seq, dueMs: at, key: undefined }, size) }));
        await producer.send({ topic, acks: acks === 'all' ? -1 : 1, compression: CompressionTypes.None, messages });
        latencies.push((performance.now() - at) * 1000);
        sent += batchSize;
      }
    }));
  } finally {
    await producer.disconnect();
  }
  const seconds = (performance.now() - began) / 1000;
  const cpu = process.cpuUsage(cpu0);
  // Every record of a send waits as long as its send: the sends' percentiles are the records'.
  const sorted = Float64Array.from(latencies).sort();
  return {
    run,
    tool: 'kafkajs',
    topic,
    rate: sent / seconds,
    latencyUs: { p50: percentile(sorted, 0.5), p99: percentile(sorted, 0.99), max: sorted[sorted.length - 1] ?? NaN },
    acked: sent,
    held: await topicHolds(ep, topic),
    cpuUsPerRecord: { client: (cpu.user + cpu.system) / sent },
    note: `${sent.toLocaleString('en-US')} acknowledged in ${seconds.toFixed(1)} s, ${maxInFlight} send() calls of ${batchSize} records at a time`,
  };
}

/** ProducerPerformance's summary: `N records sent, R records/sec (M MB/sec), A ms avg latency, X ms max latency, P ms 50th, … P ms 99th, P ms 99.9th.` */
function parseProducerPerformance(text: string): { sent: number; rate: number; p50Ms: number; p99Ms: number; maxMs: number } {
  const m = /(\d+) records sent, ([\d.]+) records\/sec \([\d.]+ MB\/sec\), [\d.]+ ms avg latency, ([\d.]+) ms max latency, (\d+) ms 50th, \d+ ms 95th, (\d+) ms 99th/.exec(text);
  if (!m) throw new Error(`ProducerPerformance printed no summary:\n${text.trim().split('\n').slice(-6).join('\n')}`);
  return { sent: Number(m[1]), rate: Number(m[2]), maxMs: Number(m[3]), p50Ms: Number(m[4]), p99Ms: Number(m[5]) };
}

async function producerPerformance(ep: Endpoint, run: number, topic: string): Promise<ProducerRun> {
  await createTopic(ep, topic);
  const { stdout } = await runProgram('java', [
    TOOL_HEAP, '-cp', toolClassPath, 'org.apache.kafka.tools.ProducerPerformance',
    '--topic', topic,
    '--num-records', String(records),
    '--record-size', String(size),
    '--throughput', '-1',
    '--producer-props',
    `bootstrap.servers=${ep.host}:${ep.port}`,
    `acks=${acks}`,
    `linger.ms=${lingerMs}`,
    `batch.size=${batchBytes}`,
    `buffer.memory=${bufferMemory}`,
    `max.in.flight.requests.per.connection=${maxInFlight}`,
    // Idempotence is on by default with acks=all in the Java producer; faultline's is off.
    'enable.idempotence=false',
    'compression.type=none',
  ]);
  const s = parseProducerPerformance(stdout);
  return {
    run,
    tool: 'perf',
    topic,
    rate: s.rate,
    // It keeps every record's latency up to 500,000 records (a sample beyond), in whole ms.
    latencyUs: { p50: s.p50Ms * 1000, p99: s.p99Ms * 1000, max: s.maxMs * 1000 },
    acked: s.sent,
    held: await topicHolds(ep, topic),
    note: `${s.sent.toLocaleString('en-US')} records; CPU per record over its whole run, the JVM's start and warm-up included`,
  };
}

/**
 * Receipts in a drive's history: how many, and the first and last one's time (ms). Every
 * receipt counts: the record the consumer's drive adds carries the same producer and sequence
 * number as the first one of the producer's drive (each drive numbers from 1).
 */
async function receipts(historyFile: string): Promise<{ count: number; firstMs: number; lastMs: number }> {
  let count = 0;
  let firstMs = Infinity;
  let lastMs = -Infinity;
  for await (const line of createInterface({ input: createReadStream(historyFile) })) {
    if (!line.includes('"recv"')) continue;
    const { t } = JSON.parse(line) as { t: number };
    count++;
    firstMs = Math.min(firstMs, t);
    lastMs = Math.max(lastMs, t);
  }
  return { count, firstMs, lastMs };
}

/** faultline's consumer reading the topic its producer filled: the group has committed nothing there, so it starts at the beginning. */
async function faultlineConsumer(ep: Endpoint, topic: string): Promise<Omit<ConsumerRow, 'cpu'>> {
  // A drive needs a producer: one record, due at the window's start, joins the topic's end.
  const workload = messaging({ model: 'open', rate: 1, producers: 1, consumers: 1, messageSize: size, drainTimeout: '120s' });
  let got: Awaited<ReturnType<typeof receipts>> | undefined;
  const began = performance.now();
  let windowStartMs = 0;
  const r = await drive(messagingDriver, 'kafka', [ep], workload, clientOptions(topic, autoCommit), {
    windowMs: 1000,
    meanwhile: async () => {
      windowStartMs = performance.now();
    },
    history: async (file) => {
      got = await receipts(file);
    },
  });
  if (!got || got.count === 0) throw new Error(`faultline's consumer received nothing from ${topic}`);
  const seconds = (got.lastMs - got.firstMs) / 1000;
  // History times count from the window's start; the drive began before it (connect, join).
  const sinceDriveS = (windowStartMs - began + got.lastMs) / 1000;
  // The broker's count, not the checker's: the repeated producer and sequence number of the
  // added record reads to the checker as one duplicate.
  const inTopic = await topicHolds(ep, topic);
  const problems = [...(got.count !== inTopic ? [`${got.count} receipts of the topic's ${inTopic} records`] : []), ...(r.drain && !r.drain.complete ? ['the drain did not finish'] : [])];
  return {
    tool: 'faultline',
    records: got.count,
    rate: (got.count - 1) / seconds,
    rateWithJoin: got.count / sinceDriveS,
    note: `${got.count.toLocaleString('en-US')} records in ${seconds.toFixed(2)} s from the first to the last, ${sinceDriveS.toFixed(2)} s from the drive's start (connect, join); ${autoCommit ? 'offsets committed every second (autoCommit)' : 'an offset commit after each record'}${problems.length > 0 ? `; ${problems.join('; ')}` : "; as many receipts as the topic's end offsets count"}`,
  };
}

async function consumerPerformance(ep: Endpoint, topic: string, count: number): Promise<Omit<ConsumerRow, 'cpu'>> {
  const { stdout } = await runProgram('java', [
    TOOL_HEAP, '-cp', toolClassPath, 'org.apache.kafka.tools.ConsumerPerformance',
    '--bootstrap-server', `${ep.host}:${ep.port}`,
    '--topic', topic,
    '--messages', String(count),
    '--group', `bench-consumer-perf-${process.pid}`,
    '--timeout', '30000',
  ]);
  // A header line of names, then one line of values.
  const lines = stdout.trim().split('\n');
  const header = lines.findIndex((l) => l.startsWith('start.time'));
  if (header < 0 || !lines[header + 1]) throw new Error(`ConsumerPerformance printed no figures:\n${lines.slice(-6).join('\n')}`);
  const names = lines[header]!.split(',').map((s) => s.trim());
  const figures = lines[header + 1]!.split(',').map((s) => s.trim());
  const at = (name: string) => Number(figures[names.indexOf(name)]);
  return {
    tool: 'perf',
    records: at('data.consumed.in.nMsg'),
    rate: at('fetch.nMsg.sec'),
    rateWithJoin: at('nMsg.sec'),
    note: `fetch ${(at('fetch.time.ms') / 1000).toFixed(2)} s after a ${at('rebalance.time.ms')} ms join; offsets committed automatically`,
  };
}

function kafkajsVersion(): string {
  try {
    return (JSON.parse(readFileSync(new URL('../../../node_modules/kafkajs/package.json', import.meta.url), 'utf8')) as { version: string }).version;
  } catch {
    return 'unknown';
  }
}

const { scratch, runtime } = benchScratch('kafka-bench', () => new LocalRuntime({ runId: `kafkabench${process.pid}` }));
const producerRows: ProducerRow[] = [];
const consumerRows: ConsumerRow[] = [];
let brokerProgram = '';
let brokerReadyMs = 0;
try {
  const began = performance.now();
  const broker = await runtime.start(kafkaSpec('kafka-bench'));
  brokerReadyMs = performance.now() - began;
  brokerProgram = `${broker.program.name} ${broker.program.version}`;
  const ep = broker.endpoint('kafka');
  process.stderr.write(`${brokerProgram} ready in ${Math.round(brokerReadyMs)} ms at ${ep.host}:${ep.port}\n`);
  for (const [i, tool] of order.entries()) {
    const run = i + 1;
    const topic = `bench-${tool}-${run}`;
    process.stderr.write(`run ${run}: ${tool === 'perf' ? `ProducerPerformance, ${records.toLocaleString('en-US')} records` : `${tool === 'kafkajs' ? 'kafkajs alone' : tool} for ${durationMs / 1000} s`}, topic ${topic}\n`);
    if (quietWaitMs > 0) await quiet(broker);
    const work = isFaultline(tool) ? () => faultlineProducer(ep, broker, run, topic, tool) : { perf: () => producerPerformance(ep, run, topic), kafkajs: () => kafkajsAlone(ep, run, topic) }[tool];
    const { result, cpu, seconds } = await withCpu(broker, work);
    // Over the whole run where the tool measured nothing narrower.
    const perRecord = (cores: number) => (cores * seconds * 1e6) / result.acked;
    const own = result.cpuUsPerRecord;
    producerRows.push({ ...result, cpu, cpuUsPerRecord: { client: own?.client ?? perRecord(cpu.tool), broker: own?.broker ?? perRecord(cpu.broker) } });
  }
  const source = producerRows.findLast((r) => isFaultline(r.tool))!.topic;
  process.stderr.write(`consumers: faultline, then ConsumerPerformance, reading ${source}\n`);
  if (quietWaitMs > 0) await quiet(broker);
  const own = await withCpu(broker, () => faultlineConsumer(ep, source));
  consumerRows.push({ ...own.result, cpu: own.cpu });
  if (quietWaitMs > 0) await quiet(broker);
  const java = await withCpu(broker, () => consumerPerformance(ep, source, own.result.records));
  consumerRows.push({ ...java.result, cpu: java.cpu });
} finally {
  stopProgram();
  await runtime.stopAll();
  rmSync(scratch, { recursive: true, force: true });
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const kafkajs = `kafkajs ${kafkajsVersion()}`;
const label = {
  faultline: `faultline (kafka adapter, ${kafkajs})`,
  'faultline-confluent': `faultline (kafka adapter, client confluent: ${confluentVersion})`,
  'faultline-confluent-process': `faultline (kafka adapter, client confluent, producerProcess: ${confluentVersion})`,
  perf: `ProducerPerformance (Java client ${kafkaTool.version})`,
  kafkajs: `${kafkajs} alone (send() loop)`,
} satisfies Record<Tool, string>;
const mean = (tool: Tool) => {
  const of = producerRows.filter((r) => r.tool === tool);
  return of.reduce((s, r) => s + r.rate, 0) / of.length;
};
const lat = (l: ProducerRow['latencyUs']) => `${formatLatency(l.p50)} / ${formatLatency(l.p99)} / ${formatLatency(l.max)}`;

console.log(`\n${brokerProgram} (one KRaft node, started in ${(brokerReadyMs / 1000).toFixed(2)} s to ready), Kafka's tools on Java ${javaVersion()}, faultline on Node ${process.version};`);
console.log(`${size} B records, no keys, ${partitions} partition(s), acks=${acks}, linger ${lingerMs} ms, batches of ${batchSize} records (Java: batch.size ${batchBytes} B), ${maxInFlight} requests in flight, no compression, no idempotence;`);
console.log(`${inFlight} records outstanding (faultline: closed model; Java: buffer.memory ${bufferMemory} B); faultline and kafkajs ${durationMs / 1000} s a run, ProducerPerformance ${count(records)} records at --throughput -1;`);
if (order.includes('faultline-confluent-process')) console.log('faultline-confluent-process: the same with producerProcess: librdkafka\'s producer, its sends (the closed model\'s window) and its delivery reports in a child process, reported to the driver every 10 ms (its CPU counted as the tool\'s over the whole run);');
if (order.some(isConfluent)) console.log(`faultline-confluent: librdkafka batches (linger.ms ${lingerMs}, batch.num.messages ${batchSize}, max.in.flight ${maxInFlight}), each record handed to it as the closed model frees a slot;`);
console.log(`run in the order ${order.join(' → ')}; the tools, the broker and everything else share this machine's ${availableParallelism()} cores.\n`);
console.log('| run | producer | records/s | latency p50 / p99 / max | acknowledged / in the topic | CPU µs per record: client / broker | other processes (cores) |\n| ---: | --- | ---: | ---: | ---: | ---: | ---: |');
for (const r of producerRows) {
  console.log(`| ${r.run} | ${label[r.tool]} | ${count(r.rate)} | ${lat(r.latencyUs)} | ${count(r.acked)} / ${count(r.held)} | ${r.cpuUsPerRecord.client.toFixed(1)} / ${r.cpuUsPerRecord.broker.toFixed(1)} | ${r.cpu.others.toFixed(2)} |`);
}
const short = { faultline: 'faultline', 'faultline-confluent': 'faultline-confluent', 'faultline-confluent-process': 'faultline-confluent-process', perf: 'ProducerPerformance', kafkajs: 'kafkajs alone' } satisfies Record<Tool, string>;
const ratio = (a: Tool, b: Tool) => (order.includes(a) && order.includes(b) ? [`${short[a]} / ${short[b]} ${(mean(a) / mean(b)).toFixed(2)}×`] : []);
const ratios = [
  ...ratio('faultline', 'perf'),
  ...ratio('faultline-confluent', 'perf'),
  ...ratio('faultline-confluent-process', 'perf'),
  ...ratio('faultline-confluent-process', 'faultline-confluent'),
  ...ratio('kafkajs', 'perf'),
  ...ratio('faultline', 'kafkajs'),
  ...ratio('faultline-confluent', 'faultline'),
];
if (ratios.length > 0) console.log(`\nrecords/s, means of each tool's runs: ${ratios.join(', ')}.`);
console.log('\n| consumer | records | records/s | records/s with connect and join | CPU cores: tool / broker / other processes |\n| --- | ---: | ---: | ---: | ---: |');
for (const r of consumerRows) {
  console.log(`| ${r.tool === 'faultline' ? `faultline (kafka adapter, ${kafkajs})` : `ConsumerPerformance (Java client ${kafkaTool.version})`} | ${count(r.records)} | ${count(r.rate)} | ${count(r.rateWithJoin)} | ${r.cpu.tool.toFixed(2)} / ${r.cpu.broker.toFixed(2)} / ${r.cpu.others.toFixed(2)} |`);
}
console.log(`\nfaultline / ConsumerPerformance: ${(consumerRows[0]!.rate / consumerRows[1]!.rate).toFixed(2)}× records/s.`);
console.log('\nlatency: from the record\'s send to its acknowledgement, the wait for a batch and a request slot included; faultline\'s from a complete HDR histogram,');
console.log('kafkajs alone\'s from every send() (its records wait as long as their send), ProducerPerformance\'s from send() to its callback in whole ms.');
console.log('consumer records/s: faultline from its first receipt to its last; ConsumerPerformance over its fetch time (after the join).');
const busiest = Math.max(...producerRows.map((r) => r.cpu.others), ...consumerRows.map((r) => r.cpu.others));
if (busiest > BUSY_CORES) console.log(`not a fair reading: other processes used up to ${busiest.toFixed(2)} cores during a run; run again on a quiet machine.`);
for (const r of producerRows) console.log(`- run ${r.run} ${label[r.tool]}: ${r.note}`);
for (const r of consumerRows) console.log(`- ${r.tool === 'faultline' ? 'faultline consumer' : 'ConsumerPerformance'}: ${r.note}`);
