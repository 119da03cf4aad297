import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { encodeHistogram, newHistogram, summarize } from '../../harness/metrics/histogram.ts';
import { formatValue } from '../../harness/result/format.ts';
import { LOAD_GENERATOR, type CheckCount, type Comparator, type DesignResult, type DistributionStats, type FaultRecord, type GaugeStats, type RunResult, type SecondStats, type SlaVerdict, type WindowStats } from '../../harness/result/result.ts';
import { upgradeResult } from '../../harness/result/upgrade-result.ts';

/** The committed result of a real short run of cluster-vs-single (`reports/fixtures/make-fixture.ts`), schema 1 on purpose. */
export const FIXTURE_FILE = fileURLToPath(new URL('../fixtures/cluster-vs-single.result.json', import.meta.url));

/**
 * The result the fault-band tests render: a real run of http-faults at half time
 * (`node reports/fixtures/make-fixture.ts http-faults --time-scale 0.5`), schema 1 on purpose.
 */
export const FAULT_FIXTURE_FILE = fileURLToPath(new URL('../fixtures/http-faults.result.json', import.meta.url));

/** A committed result as the reports see it: read and upgraded to the current schema. */
function read(file: string): RunResult {
  return upgradeResult(JSON.parse(readFileSync(file, 'utf8')), file);
}

/** A fresh copy of the fixture (tests may change it). */
export function fixture(): RunResult {
  return read(FIXTURE_FILE);
}

/** A fresh copy of the fixture the fault-band tests render (`FAULT_FIXTURE_FILE`). */
export function faultFixture(): RunResult {
  return read(FAULT_FIXTURE_FILE);
}

/** Markup that runs script if any report writes it unescaped. */
export const XSS = '<img src=x onerror=alert(1)>';

/**
 * The fixture with every user-provided string replaced by markup that would run script or break
 * out of an element if written unescaped: the first design is named `XSS`, and its checker
 * counts, if any, gain an example that is markup.
 */
export function hostile(result = fixture()): RunResult {
  const [first] = result.designs;
  const oldName = first!.name;
  first!.name = XSS;
  first!.faults = [{ name: '<script>alert("fault")</script>', kind: 'latency', link: 'client->"service"', settings: {}, atMs: 1000, forMs: 2000, appliedAtMs: 1004, removedAtMs: 3002 }];
  for (const c of Object.values(first!.checks)) c.examples = [`<script>alert("example")</script> ${XSS}`, ...c.examples];
  const designs = Object.entries(result.scenario.designs).map(([k, v]) => [k === oldName ? XSS : k, v] as const);
  result.scenario = {
    ...result.scenario,
    name: '</script><script>alert("name")</script>',
    description: '<!-- --><svg onload=alert("description")> & "quotes" \'too\'',
    designs: Object.fromEntries(designs),
  };
  return result;
}

/** Fault records a run of the fixture's length could have had: two applied, one that failed to apply. */
export function sampleFaults(): FaultRecord[] {
  return [
    { name: 'slow-link', kind: 'latency', link: 'client->service', settings: { latency: { ms: 100 } }, atMs: 1000, forMs: 2000, appliedAtMs: 1003, removedAtMs: 3004 },
    { name: 'crash', kind: 'kill', service: 'service', settings: { kill: 'SIGKILL' }, atMs: 4000, appliedAtMs: 4010 },
    { name: 'never', kind: 'pause', service: 'service', settings: { pause: true }, atMs: 5000, forMs: 500, error: 'could not pause' },
  ];
}

/** The fixture with `sampleFaults()` in every design. */
export function withFaults(result = fixture()): RunResult {
  for (const d of result.designs) d.faults = sampleFaults();
  return result;
}

/** The fixture as a run cut short in its last design: that design interrupted after half its seconds, and one more design never reached. */
export function partial(result = fixture()): RunResult {
  const last = result.designs.at(-1)!;
  last.status = 'interrupted';
  last.error = 'interrupted by SIGINT during design';
  last.series = last.series.slice(0, Math.ceil(last.series.length / 2));
  last.passed = false;
  result.scenario.designs['never-reached'] = { target: 'http-service', options: {} };
  return { ...result, complete: false, passed: false };
}

/**
 * The fixture with what its services cost, as a run now samples it: each second, every
 * service's CPU (120 µs an operation in the first design, 150 in the others) and memory (85 MB,
 * growing by 1 MB a second) and the load generator's (60 µs an operation, 70 MB), and the
 * summary over the window.
 */
export function withResources(result = fixture()): RunResult {
  const MB = 1024 * 1024;
  for (const [i, d] of result.designs.entries()) {
    const usPerOp = i === 0 ? 120 : 150;
    for (const row of d.series) {
      const rssBytes = (85 + row.second) * MB;
      row.resources = {
        ...Object.fromEntries(d.services.map((s) => [s.name, { cpuUs: row.ops * usPerOp, rssBytes }])),
        [LOAD_GENERATOR]: { cpuUs: row.ops * 60, rssBytes: 70 * MB },
      };
    }
    const ops = d.totals.ops;
    const peakRssBytes = (85 + d.series.length - 1) * MB;
    d.resources = {
      byService: {
        ...Object.fromEntries(d.services.map((s) => [s.name, { cpuUs: ops * usPerOp, cpuUsPerOp: usPerOp, peakRssBytes }])),
        [LOAD_GENERATOR]: { cpuUs: ops * 60, cpuUsPerOp: 60, peakRssBytes: 70 * MB },
      },
      cpuUsPerOp: usPerOp * d.services.length,
      peakRssBytes: peakRssBytes * d.services.length,
    };
  }
  return result;
}

/** The fixture with a regression injected into one design: its latency figures × `latency`, its throughput × `throughput`. */
export function withRegression(result = fixture(), design = 'cluster-2', factors: { latency?: number; throughput?: number } = { latency: 1.5 }): RunResult {
  const d = result.designs.find((x) => x.name === design)!;
  const l = d.totals.latencyUs;
  for (const k of ['min', 'mean', 'p50', 'p90', 'p99', 'p999', 'max'] as const) l[k] = Math.round(l[k] * (factors.latency ?? 1));
  d.totals.throughput = +(d.totals.throughput * (factors.throughput ?? 1)).toFixed(1);
  return result;
}

/** Seconds in the messaging fixture's window, and the second its broker pause falls in. */
const SECONDS = 6;
const PAUSED_SECOND = 2;
const PER_SECOND = 100;

/** Deterministic latencies around `baseUs`: a spread body and a slow tail every 50th value. */
function latencies(n: number, baseUs: number, seed: number): number[] {
  return Array.from({ length: n }, (_, i) => Math.round(baseUs * (1 + ((i * 7 + seed) % 20) / 10) * (i % 50 === 49 ? 8 : 1)));
}

function histogramOf(values: readonly number[]): { figures: ReturnType<typeof summarize>; histogram: string } {
  const h = newHistogram();
  for (const v of values) h.recordValue(v);
  const out = { figures: summarize(h), histogram: encodeHistogram(h) };
  h.destroy();
  return out;
}

function distribution(values: readonly number[]): DistributionStats {
  const { figures: { count, ...latencyUs }, histogram } = histogramOf(values);
  return { count, latencyUs, histogram };
}

function window(values: readonly number[], errorsByKind: Record<string, number>, seconds: number): WindowStats {
  const { figures: { count: _count, ...latencyUs }, histogram } = histogramOf(values);
  const errors = Object.values(errorsByKind).reduce((a, b) => a + b, 0);
  const ok = values.length - errors;
  return { ops: values.length, ok, errors, errorsByKind, throughput: Math.round((ok / seconds) * 10) / 10, latencyUs, histogram };
}

function gauge(samples: readonly number[]): GaugeStats {
  return { samples: samples.length, min: Math.min(...samples), max: Math.max(...samples), mean: Math.round((samples.reduce((a, b) => a + b, 0) / samples.length) * 100) / 100, last: samples.at(-1)! };
}

function verdict(line: string, op: Comparator, measured: number | null, threshold: number, unit: SlaVerdict['unit']): SlaVerdict {
  const pass = measured !== null && { '<': measured < threshold, '<=': measured <= threshold, '>': measured > threshold, '>=': measured >= threshold, '==': measured === threshold, '!=': measured !== threshold }[op];
  return { line, pass, measured, op, threshold, unit, measuredText: formatValue(measured, unit) };
}

interface MessagingDesign {
  name: string;
  target: string;
  protocol: string;
  publishUs: number;
  e2eUs: number;
  lag: number[];
  redelivered: number[];
  lost: string[];
}

function messagingDesign(m: MessagingDesign, seed: number): DesignResult {
  const publish: number[][] = [];
  const e2e: number[][] = [];
  const series: SecondStats[] = [];
  const pause: FaultRecord = { name: 'broker-pause', kind: 'pause', service: 'broker', settings: { pause: true }, atMs: 2000, forMs: 1000, appliedAtMs: 2004, removedAtMs: 3001 };
  for (let s = 0; s < SECONDS; s++) {
    const slow = s === PAUSED_SECOND ? 20 : 1;
    publish.push(latencies(PER_SECOND, m.publishUs * slow, seed + s));
    e2e.push(latencies(PER_SECOND, m.e2eUs * slow, seed + s + 3));
    const errorsByKind: Record<string, number> = s === PAUSED_SECOND ? { timeout: 4 } : {};
    const redelivered = m.redelivered[s] ?? 0;
    series.push({
      second: s,
      ...window(publish[s]!, errorsByKind, 1),
      distributions: { e2e: distribution(e2e[s]!) },
      ...(redelivered > 0 ? { counters: { redelivered } } : {}),
      gauges: { lag: m.lag[s]! },
      ...(s === PAUSED_SECOND || s === PAUSED_SECOND + 1 ? { faults: [pause.name] } : {}),
      sent: PER_SECOND,
      late: 0,
      dropped: 0,
    });
  }
  const totals = window(publish.flat(), { timeout: 4 }, SECONDS);
  const e2eTotal = distribution(e2e.flat());
  const lost: CheckCount = { checker: 'delivery', value: m.lost.length, unit: 'count', perSecond: [0, 0, m.lost.length, 0, 0, 0], examples: m.lost };
  const duplicated: CheckCount = { checker: 'delivery', value: 0, unit: 'count', perSecond: [0, 0, 0, 0, 0, 0], examples: [] };
  const sla = [
    verdict('p99 < 100ms', '<', totals.latencyUs.p99, 100_000, 'latency'),
    verdict('e2e p99 < 250ms', '<', e2eTotal.latencyUs.p99, 250_000, 'latency'),
    verdict('lost == 0', '==', lost.value, 0, 'count'),
    verdict('duplicated == 0', '==', duplicated.value, 0, 'count'),
  ];
  const endpoint = `${m.protocol}://127.0.0.1:${5672 + seed}`;
  return {
    name: m.name,
    target: m.target,
    status: 'completed',
    entry: { protocol: m.protocol, endpoints: [endpoint] },
    client: { protocol: m.protocol, options: { prefetch: 50 } },
    services: [{ name: 'broker', target: m.target, program: m.target, version: '1.0.0', endpoints: { [m.protocol]: endpoint } }],
    load: { model: 'open', targetRate: PER_SECOND, connections: 4, sent: PER_SECOND * SECONDS, dropped: 0, late: 0, lateThresholdMs: 10, maxDispatchLagMs: 1.5, lateResponses: 0 },
    totals,
    byOperation: { 'publish orders': totals },
    distributions: { e2e: e2eTotal },
    counters: { redelivered: m.redelivered.reduce((a, b) => a + b, 0) },
    tallies: {},
    gauges: { lag: gauge(m.lag) },
    series,
    checks: { lost, duplicated },
    drain: { ms: 420, deadlineMs: 5000, complete: true },
    historyFile: `history/${m.name}.jsonl`,
    links: [],
    faults: [pause],
    sla,
    passed: sla.every((v) => v.pass),
  };
}

/**
 * A schema-2 result of a messaging workload (wording `message`/`messages`), built here rather
 * than run: two designs with an `e2e` distribution, a `redelivered` counter, a `lag` gauge and
 * the delivery checker's `lost` and `duplicated` counts. The `queue` design lost 3 messages
 * (with examples) and fails `lost == 0`, its only failed line; `stream` lost none and passes.
 * A broker pause at 2–3 s.
 */
export function messagingFixture(): RunResult {
  const designs = [
    messagingDesign({ name: 'queue', target: 'rabbitmq', protocol: 'amqp', publishUs: 900, e2eUs: 2500, lag: [3, 5, 180, 40, 4, 2], redelivered: [0, 0, 6, 2, 0, 0], lost: ['orders#1207 published at 2.013 s, never consumed', 'orders#1211 published at 2.051 s, never consumed', 'orders#1219 published at 2.122 s, never consumed'] }, 0),
    messagingDesign({ name: 'stream', target: 'kafka', protocol: 'kafka', publishUs: 1400, e2eUs: 4000, lag: [10, 12, 260, 90, 15, 11], redelivered: [0, 0, 0, 0, 0, 0], lost: [] }, 1),
  ];
  const base = fixture();
  return {
    schemaVersion: 2,
    scenario: {
      name: 'queue-vs-stream',
      description: 'A work queue and a log-based stream under the same publish rate, through a broker pause',
      file: 'scenarios/queue-vs-stream.ts',
      warmupMs: 1000,
      durationMs: SECONDS * 1000,
      designs: { queue: { target: 'rabbitmq', options: {}, client: { prefetch: 50 } }, stream: { target: 'kafka', options: { partitions: 3 }, client: { prefetch: 50 } } },
      workload: { kind: 'messaging', model: 'open', rate: PER_SECOND, queue: 'orders' },
      workloadKind: 'messaging',
      wording: { one: 'message', many: 'messages' },
      metrics: {
        e2e: { kind: 'distribution', description: 'time from publish to consumer receipt', unit: 'latency', better: 'lower' },
        redelivered: { kind: 'counter', description: 'messages the broker delivered again', unit: 'count', better: 'lower' },
        lag: { kind: 'gauge', description: 'messages published and not yet consumed', unit: 'count', better: 'lower' },
        lost: { kind: 'check', description: 'messages published and acknowledged, never consumed', unit: 'count', better: 'lower' },
        duplicated: { kind: 'check', description: 'messages consumed more than once', unit: 'count', better: 'lower' },
      },
      sla: designs[0]!.sla.map((v) => v.line),
      faults: [{ name: 'broker-pause', at: '2s', for: '1s', service: 'broker', pause: true }],
    },
    environment: base.environment,
    startedAt: '2026-12-01T10:00:00.000Z',
    finishedAt: '2026-12-01T10:00:21.000Z',
    complete: true,
    passed: designs.every((d) => d.passed),
    designs,
  };
}
