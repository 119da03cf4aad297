// Benchmark (not a test): faultline's AMQP publisher and consumer next to RabbitMQ PerfTest, the
// broker team's own load tool, against the same RabbitMQ node, one tool after the other, each
// with its own queue and the same settings: message size, producers, consumers, publisher
// confirms with a window, manual single acks with a prefetch, a transient classic queue,
// non-persistent messages, as fast as the broker confirms (closed model).
//   node harness/tooling/bench/amqp-vs-perftest.ts [--duration 15s] [--size 1024] [--producers 1] [--consumers 1]
//     [--confirm 100] [--prefetch 100] [--order faultline,perftest,faultline] [--quiet-wait 30s]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import amqp from 'amqplib';
import { amqpUrl, rabbitmqSpec } from '../../../targets/rabbitmq/rabbitmq.ts';
import { parseDuration } from '../../base/duration.ts';
import { messagingDriver } from '../../drivers/messaging/messaging-driver.ts';
import { CONSUMED, PUBLISH_OP } from '../../drivers/messaging/messaging-load.ts';
import { messaging } from '../../drivers/messaging/messaging-workload.ts';
import { formatLatency } from '../../result/format.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import type { Endpoint, StartedService } from '../../runtime/runtime.ts';
import { drive } from '../../testing/drive.ts';
import { findMavenTool, mavenTools } from '../setup/maven-tools.mjs';
import { javaVersion, optionChecks, runProgram, stopProgram, waitQuiet, withCpu, type Cpu } from './bench-helpers.ts';

const { fail, positiveInt } = optionChecks('amqp-vs-perftest');

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '15s' },
    size: { type: 'string', default: '1024' },
    producers: { type: 'string', default: '1' },
    consumers: { type: 'string', default: '1' },
    confirm: { type: 'string', default: '100' },
    prefetch: { type: 'string', default: '100' },
    order: { type: 'string', default: 'faultline,perftest,faultline' },
    'quiet-wait': { type: 'string', default: '30s' },
    // Durable queues and persistent messages in both tools: confirms then wait for the broker's disk.
    persistent: { type: 'boolean', default: false },
  },
});
const durationMs = parseDuration(values.duration) ?? fail(`--duration '${values.duration}' is not a duration; use e.g. 15s`);
// PerfTest runs for whole seconds (--time).
if (durationMs < 1000 || durationMs % 1000 !== 0) fail(`--duration '${values.duration}' must be whole seconds, at least 1s (PerfTest's --time)`);
const size = positiveInt('size', values.size);
// faultline's messages carry a 21-byte header and are at least 32 bytes; PerfTest's at least 12.
if (size < 32) fail(`--size ${size}: at least 32 bytes`);
const producers = positiveInt('producers', values.producers);
const consumers = positiveInt('consumers', values.consumers);
const confirmWindow = positiveInt('confirm', values.confirm);
const prefetch = positiveInt('prefetch', values.prefetch);
const quietWaitMs = parseDuration(values['quiet-wait']) ?? fail(`--quiet-wait '${values['quiet-wait']}' is not a duration; use e.g. 30s, or 0s not to wait`);
const TOOLS = ['faultline', 'perftest'] as const;
type Tool = (typeof TOOLS)[number];
const order = values.order.split(',').map((t) => t.trim()) as Tool[];
if (order.length === 0 || order.some((t) => !TOOLS.includes(t))) fail(`--order '${values.order}' must list faultline and perftest, comma-separated`);
/** Other processes using more than this many cores during a run make its comparison unfair. */
const BUSY_CORES = 0.2;
/** Heartbeat both tools ask for (s): faultline's client default. */
const HEARTBEAT_S = 5;

const perfTest = mavenTools.find((t) => t.name === 'perf-test')!;
const perfTestClassPath = findMavenTool(perfTest) ?? fail(`PerfTest ${perfTest.version} is not installed: npm run setup (it fetches ${perfTest.groupId}:${perfTest.artifactId}:${perfTest.version} with mvn)`);

/** One drive's figures; latencies in µs. */
interface Row {
  run: number;
  tool: Tool;
  published: number;
  consumed: number;
  publishUs: { p50: number; p99: number };
  e2eUs: { p50: number; p99: number };
  /** Medians of the per-second rates (msgs/s): the steady pace, whatever a slow first second did. */
  medianSecond: { published: number; consumed: number };
  /** CPU in cores over the drive: the load tool's own process, the broker, everything else. */
  cpu: Cpu;
  note: string;
}

function quiet(broker: StartedService): Promise<void> {
  return waitQuiet(async () => (await withCpu(broker, () => sleep(1000))).cpu.others, quietWaitMs, BUSY_CORES);
}

function median(values: number[]): number {
  const v = [...values].sort((a, b) => a - b);
  if (v.length === 0) return NaN;
  const mid = Math.floor(v.length / 2);
  return v.length % 2 === 1 ? v[mid]! : (v[mid - 1]! + v[mid]!) / 2;
}

/** Removes a queue and the exchange of the same name, so the next drive meets an empty broker. */
async function removeQueue(ep: Endpoint, name: string): Promise<void> {
  const conn = await amqp.connect(amqpUrl(ep), { noDelay: true } as amqp.Options.Connect);
  try {
    const ch = await conn.createChannel();
    await ch.deleteQueue(name);
    await ch.deleteExchange(name);
  } finally {
    await conn.close();
  }
}

async function faultline(ep: Endpoint, run: number, queue: string): Promise<Omit<Row, 'cpu'>> {
  // Closed model: each producer keeps `inFlight` publishes outstanding, as many as its confirm
  // window holds, so it publishes as fast as the broker confirms, like PerfTest with --confirm.
  const workload = messaging({ model: 'closed', inFlight: confirmWindow, producers, consumers, messageSize: size });
  const client = { name: queue, exchange: 'direct', queue: 'classic', durable: values.persistent, persistent: values.persistent, confirms: 'window', confirmWindow, ack: 'manual', prefetch, heartbeat: HEARTBEAT_S };
  const r = await drive(messagingDriver, 'amqp', [ep], workload, client, { windowMs: durationMs });
  await removeQueue(ep, queue);
  const s = r.summary;
  const seconds = durationMs / 1000;
  const publish = s.byOperation[PUBLISH_OP] ?? s.totals;
  // The window's seconds only: the consumed counter of the totals also counts the drain.
  const consumedInWindow = s.series.reduce((n, row) => n + (row.counters?.[CONSUMED] ?? 0), 0);
  const e2e = s.distributions.e2e?.latencyUs;
  const wholeSeconds = s.series.slice(0, seconds);
  const problems = [
    ...(s.totals.errors > 0 ? [`${s.totals.errors} publishes failed: ${JSON.stringify(s.totals.errorsByKind)}`] : []),
    ...Object.entries(r.checks).filter(([, c]) => c.value !== 0).map(([name, c]) => `${name} ${c.value}`),
    ...(r.drain && !r.drain.complete ? ['the drain did not finish'] : []),
  ];
  return {
    run,
    tool: 'faultline',
    published: publish.throughput,
    consumed: consumedInWindow / seconds,
    publishUs: { p50: publish.latencyUs.p50, p99: publish.latencyUs.p99 },
    e2eUs: { p50: e2e?.p50 ?? NaN, p99: e2e?.p99 ?? NaN },
    // Whole seconds only: a row past them is the window's last fraction of one.
    medianSecond: {
      published: median(wholeSeconds.map((row) => row.byOperation?.[PUBLISH_OP]?.ok ?? row.ok)),
      consumed: median(wholeSeconds.map((row) => row.counters?.[CONSUMED] ?? 0)),
    },
    note: `${publish.ok} confirmed in ${seconds} s, drain ${r.drain ? `${Math.round(r.drain.ms)} ms` : 'none'}${problems.length > 0 ? `; ${problems.join('; ')}` : '; every message delivered once'}`,
  };
}

/** A PerfTest summary line `<what> min/median/75th/95th/99th a/b/c/d/e µs|ms`, in µs. */
function perfTestLatency(text: string, what: string): { p50: number; p99: number } {
  const m = new RegExp(`${what} latency min/median/75th/95th/99th (\\d+)/(\\d+)/(\\d+)/(\\d+)/(\\d+) (µs|ms)`).exec(text);
  if (!m) throw new Error(`PerfTest printed no ${what} latency summary:\n${text.trim().split('\n').slice(-6).join('\n')}`);
  const unit = m[6] === 'ms' ? 1000 : 1;
  return { p50: Number(m[2]) * unit, p99: Number(m[5]) * unit };
}

function perfTestRate(text: string, what: string): number {
  const m = new RegExp(`${what} rate avg: (\\d+(?:\\.\\d+)?) msg/s`).exec(text);
  if (!m) throw new Error(`PerfTest printed no ${what} rate:\n${text.trim().split('\n').slice(-6).join('\n')}`);
  return Number(m[1]);
}

/** The per-second rates of PerfTest's report lines (`time 3.000 s, sent: 8123 msg/s, ...`). */
function perfTestSeconds(text: string, what: 'sent' | 'received'): number[] {
  const re = new RegExp(`time \\d+\\.\\d+ s, .*?\\b${what}: (\\d+(?:\\.\\d+)?) msg/s`);
  return text.split('\n').flatMap((line) => {
    const m = re.exec(line);
    return m ? [Number(m[1])] : [];
  });
}

async function perftest(ep: Endpoint, run: number, queue: string): Promise<Omit<Row, 'cpu'>> {
  const { stdout } = await runProgram('java', [
    '-cp', perfTestClassPath, perfTest.mainClass,
    '--uri', amqpUrl(ep),
    '--size', String(size),
    '--producers', String(producers),
    '--consumers', String(consumers),
    // Up to this many unconfirmed publishes per producer, as faultline's confirm window.
    '--confirm', String(confirmWindow),
    // Manual acks (PerfTest acks unless --autoack), one ack per message (multi-ack 0), with a
    // per-consumer prefetch: faultline's ack: 'manual' and prefetch (amqplib's prefetch is per
    // consumer too). faultline acks each message once its processing (none) began.
    '--multi-ack-every', '0',
    '--qos', String(prefetch),
    // Without --flag persistent PerfTest publishes transient messages to a non-durable classic
    // queue; it deletes the queue at the end (auto-delete), faultline's is deleted after its drive.
    ...(values.persistent ? ['--flag', 'persistent'] : []),
    '--queue', queue,
    '--exchange', queue,
    '--type', 'direct',
    '--routing-key', queue,
    '--heartbeat', String(HEARTBEAT_S),
    '--time', String(durationMs / 1000),
    // Latency from System.nanoTime() stamps in the bodies (producer and consumer share the JVM),
    // printed in µs; --use-millis would stamp wall-clock ms and print whole milliseconds.
  ]);
  return {
    run,
    tool: 'perftest',
    published: perfTestRate(stdout, 'sending'),
    consumed: perfTestRate(stdout, 'receiving'),
    publishUs: perfTestLatency(stdout, 'confirm'),
    e2eUs: perfTestLatency(stdout, 'consumer'),
    medianSecond: { published: median(perfTestSeconds(stdout, 'sent')), consumed: median(perfTestSeconds(stdout, 'received')) },
    note: 'rates over its whole run; latency percentiles from its exponentially decaying reservoir (a sample of ~1,000 values)',
  };
}

function perfTestVersion(): string {
  const r = spawnSync('java', ['-cp', perfTestClassPath, perfTest.mainClass, '--version'], { encoding: 'utf8' });
  const text = `${r.stdout}`.replace(/\x1b\[[0-9;]*m/g, '');
  const own = /RabbitMQ Perf Test (\S+)/.exec(text)?.[1] ?? `${perfTest.version} (pinned; --version printed nothing)`;
  const client = /RabbitMQ AMQP Client version: (\S+)/.exec(text)?.[1];
  return `PerfTest ${own}${client ? ` (Java AMQP client ${client})` : ''}`;
}

const runtime = new LocalRuntime({ runId: `amqpbench${process.pid}` });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => {
    stopProgram();
    void runtime.stopAll().finally(() => process.exit(130));
  });
}
const rows: Row[] = [];
let brokerProgram = '';
let brokerReadyMs = 0;
try {
  const began = performance.now();
  const broker = await runtime.start(rabbitmqSpec());
  brokerReadyMs = performance.now() - began;
  brokerProgram = `${broker.program.name} ${broker.program.version}`;
  const ep = broker.endpoint('amqp');
  process.stderr.write(`${brokerProgram} ready in ${Math.round(brokerReadyMs)} ms at ${ep.host}:${ep.port}\n`);
  for (const [i, tool] of order.entries()) {
    const run = i + 1;
    const queue = `bench-${tool}-${run}`;
    process.stderr.write(`run ${run}: ${tool}, ${durationMs / 1000} s, queue ${queue}\n`);
    if (quietWaitMs > 0) await quiet(broker);
    const { result, cpu } = await withCpu(broker, () => (tool === 'faultline' ? faultline(ep, run, queue) : perftest(ep, run, queue)));
    rows.push({ ...result, cpu });
  }
} finally {
  stopProgram();
  await runtime.stopAll();
}

const count = (n: number) => Math.round(n).toLocaleString('en-US');
const pair = (l: { p50: number; p99: number }) => `${formatLatency(l.p50)} / ${formatLatency(l.p99)}`;
const mean = (tool: Tool, pick: (r: Row) => number) => {
  const of = rows.filter((r) => r.tool === tool);
  return of.reduce((s, r) => s + pick(r), 0) / of.length;
};

console.log(`\n${brokerProgram} (one node, started in ${(brokerReadyMs / 1000).toFixed(2)} s to ready), ${perfTestVersion()} on Java ${javaVersion()}, faultline on Node ${process.version};`);
console.log(`${size} B ${values.persistent ? 'persistent messages on durable queues' : 'transient messages'}, ${producers} producer(s) and ${consumers} consumer(s) (a connection each), confirms with up to ${confirmWindow} unconfirmed per producer,`);
console.log(`manual single acks with prefetch ${prefetch}, a ${values.persistent ? 'durable' : 'non-durable'} classic queue per run, ${durationMs / 1000} s per run, run in the order ${order.join(' → ')};`);
console.log(`the tools, the broker and everything else share this machine's ${availableParallelism()} cores.\n`);
console.log('| run | tool | msgs/s published | msgs/s consumed | publish (confirm) latency p50 / p99 | end-to-end latency p50 / p99 |\n| ---: | --- | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(`| ${r.run} | ${r.tool === 'faultline' ? 'faultline' : 'PerfTest'} | ${count(r.published)} | ${count(r.consumed)} | ${pair(r.publishUs)} | ${pair(r.e2eUs)} |`);
}
if (order.includes('faultline') && order.includes('perftest')) {
  const published = mean('faultline', (r) => r.published) / mean('perftest', (r) => r.published);
  const consumed = mean('faultline', (r) => r.consumed) / mean('perftest', (r) => r.consumed);
  console.log(`\nfaultline / PerfTest (means of each tool's runs): ${published.toFixed(2)}× published, ${consumed.toFixed(2)}× consumed.`);
}
console.log('\npublish latency: from the send to the broker\'s confirm (faultline: from when its closed loop sent the message; PerfTest: its confirm latency).');
console.log('end-to-end: from the send to the consumer\'s receipt, on one monotonic clock (faultline: its e2e distribution; PerfTest: its consumer latency).');
console.log('msgs/s published: faultline counts publishes confirmed inside the window; PerfTest counts publishes sent over its run.');
console.log('CPU during each run, in cores (load tool / broker / everything else on the machine):');
const busiest = Math.max(...rows.map((r) => r.cpu.others));
if (busiest > BUSY_CORES) console.log(`not a fair reading: other processes used up to ${busiest.toFixed(2)} cores during a run; run again on a quiet machine.`);
for (const r of rows) console.log(`- run ${r.run} ${r.tool}: ${r.cpu.tool.toFixed(2)} / ${r.cpu.broker.toFixed(2)} / ${r.cpu.others.toFixed(2)}; median second ${count(r.medianSecond.published)} published, ${count(r.medianSecond.consumed)} consumed msgs/s; ${r.note}`);
