// Benchmark (not a test): faultline's `ids` workload next to wrk against one instance of each ID
// generator (snowflake, sonyflake, uuidv7, segment, redis-incr), and, for the two that count in
// Redis, redis-benchmark's INCR rate against the same Redis: the ceiling of one Redis server.
// On each instance, in turn: faultline's closed model asking one ID per call, wrk on
// `/ids?n=1`, faultline asking `--batch` IDs per call, wrk on `/ids?n=<batch>`; the `ids`
// checker reads every ID faultline received and must find no duplicate and none out of order.
// Prints one run's figures as a Markdown table; exits 1 when a call failed or the checker
// found anything, 2 on invalid options.
//   node harness/tooling/bench/ids-vs-wrk.ts [--duration 5s] [--connections 16] [--batch 100]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { idGenerators, idServiceTarget, type IdGeneratorKind } from '../../../targets/id-service/id-service.ts';
import { IDS_ISSUED, idsDriver } from '../../drivers/ids-driver.ts';
import { ids, MAX_BATCH } from '../../drivers/ids-workload.ts';
import { formatLatency } from '../../result/format.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import type { Endpoint, Runtime, StartedService, StartOptions } from '../../runtime/runtime.ts';
import type { ServiceSpec } from '../../runtime/service-spec.ts';
import { drive } from '../../testing/drive.ts';
import { benchOptions, benchScratch, count, measure, runProgram, startDirect, versionOf, wrkFigures } from './bench-helpers.ts';

const { values, fail, positiveInt, wholeSeconds } = benchOptions('ids-vs-wrk', { duration: '5s', connections: '16', batch: '100' });
const durationMs = wholeSeconds('duration');
const connections = positiveInt('connections', values.connections);
if (connections > 10_000) fail(`--connections ${connections}: at most 10000 (the ids workload's limit)`);
const batch = positiveInt('batch', values.batch);
if (batch > MAX_BATCH) fail(`--batch ${batch}: an ID service hands out at most ${MAX_BATCH} IDs per call`);
const onPath = (command: string) => spawnSync('which', [command], { encoding: 'utf8' }).status === 0;
if (!onPath('wrk')) fail('wrk is not installed: apt-get install wrk (or npm run setup)');
const hasRedisBenchmark = onPath('redis-benchmark');

/** Each fresh instance is driven this long before faultline's first window opens, so neither tool meets a cold JIT. */
const WARMUP_MS = 1000;
/** INCRs redis-benchmark sends to a counter's Redis. */
const REDIS_BENCHMARK_REQUESTS = 200_000;
const seconds = durationMs / 1000;

/** One drive of one tool at one batch: calls (requests) per second, IDs per second, latency in µs. */
interface Figures {
  callsPerS: number;
  idsPerS: number;
  p50Us: number;
  p99Us: number;
}

/** A faultline drive's figures and what the `ids` checker found over every ID it received. */
interface FaultlineFigures extends Figures {
  duplicates: number | null;
  nonMonotonic: number | null;
}

interface Row {
  generator: IdGeneratorKind;
  faultline1: FaultlineFigures;
  wrk1: Figures;
  faultlineN: FaultlineFigures;
  wrkN: Figures;
}

/** redis-benchmark against a counter design's Redis. */
interface RedisCeiling {
  generator: IdGeneratorKind;
  incrPerS: number;
  p50: string;
}

/**
 * A runtime that remembers every service it started, by name: `startDirect` hands back only the
 * entry, and redis-benchmark needs the counter's Redis.
 */
class RecordingRuntime implements Runtime {
  readonly kind: Runtime['kind'];
  readonly proxyScope: Runtime['proxyScope'];
  readonly started = new Map<string, StartedService>();
  private readonly inner: Runtime;

  constructor(inner: Runtime) {
    this.inner = inner;
    this.kind = inner.kind;
    this.proxyScope = inner.proxyScope;
  }

  async start(spec: ServiceSpec, opts?: StartOptions): Promise<StartedService> {
    const s = await this.inner.start(spec, opts);
    this.started.set(s.name, s);
    return s;
  }

  stopAll(): Promise<void> {
    return this.inner.stopAll();
  }

  imagesUsed(): Record<string, string> {
    return this.inner.imagesUsed();
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopAll();
  }
}

/** faultline's closed model, `connections` callers, `n` IDs per call, for `durationMs` after `warmupMs`. */
async function faultline(ep: Endpoint, n: number, warmupMs: number): Promise<FaultlineFigures> {
  const r = await drive(idsDriver, 'http', [ep], ids({ model: 'closed', connections, batch: n }), {}, { windowMs: durationMs, warmupMs });
  const t = r.summary.totals;
  if (t.errors > 0) {
    const kinds = Object.entries(t.errorsByKind).map(([k, c]) => `${k} ${c}`).join(', ');
    throw new Error(`faultline, batch ${n}: ${t.errors} of ${t.ops} calls failed (${kinds})`);
  }
  // Every answered call carries exactly n IDs: the driver's count of IDs must say the same.
  const issued = r.summary.counters[IDS_ISSUED] ?? 0;
  if (issued !== t.ok * n) throw new Error(`faultline, batch ${n}: ${t.ok} calls answered, so ${t.ok * n} IDs expected, but ${issued} received`);
  return {
    callsPerS: t.throughput,
    idsPerS: t.throughput * n,
    p50Us: t.latencyUs.p50,
    p99Us: t.latencyUs.p99,
    duplicates: r.checks.duplicate_ids?.value ?? null,
    nonMonotonic: r.checks.non_monotonic?.value ?? null,
  };
}

/** wrk, one thread, `connections` connections, on `/ids?n=<n>`. */
async function wrk(url: string, n: number): Promise<Figures> {
  const w = await wrkFigures(['-t1', `-c${connections}`, `-d${seconds}s`, '--latency', `${url}/ids?n=${n}`], `wrk, batch ${n}`);
  return { callsPerS: w.rps, idsPerS: w.rps * n, p50Us: w.p50Us, p99Us: w.p99Us };
}

/** redis-benchmark's INCR, `connections` clients, against the Redis at `ep`. */
async function redisBenchmark(ep: Endpoint): Promise<{ incrPerS: number; p50: string }> {
  const { stdout } = await runProgram('redis-benchmark', ['-h', ep.host, '-p', String(ep.port), '-t', 'incr', '-n', String(REDIS_BENCHMARK_REQUESTS), '-c', String(connections), '-q']);
  // -q rewrites a progress line with \r; the last INCR line is the result.
  const line = stdout.split(/[\r\n]+/).findLast((l) => /^INCR: [\d.]+ requests per second/.test(l));
  if (!line) throw new Error(`redis-benchmark printed no INCR rate:\n${stdout}`);
  return { incrPerS: Number(/^INCR: ([\d.]+)/.exec(line)![1]), p50: /p50=([\d.]+ \w+)/.exec(line)?.[1] ?? '?' };
}

const { scratch, runtime } = benchScratch('ids-bench', () => new RecordingRuntime(new LocalRuntime({ runId: `idsbench${process.pid}` })));

const rows: Row[] = [];
const ceilings: RedisCeiling[] = [];
let redisProgram = '';
const failure = await measure(scratch, runtime, async () => {
  for (const generator of idGenerators) {
    const topology = idServiceTarget.topology(idServiceTarget.options.parse({ generator }));
    const { url, entry } = await startDirect(runtime, topology);
    const ep = entry.endpoint();
    process.stderr.write(`${generator}: one instance at ${url}\n`);
    process.stderr.write(`  faultline, batch 1, ${seconds} s (after ${WARMUP_MS / 1000} s of warm-up)\n`);
    const faultline1 = await faultline(ep, 1, WARMUP_MS);
    process.stderr.write(`  wrk, batch 1, ${seconds} s\n`);
    const wrk1 = await wrk(url, 1);
    process.stderr.write(`  faultline, batch ${batch}, ${seconds} s\n`);
    const faultlineN = await faultline(ep, batch, 0);
    process.stderr.write(`  wrk, batch ${batch}, ${seconds} s\n`);
    const wrkN = await wrk(url, batch);
    rows.push({ generator, faultline1, wrk1, faultlineN, wrkN });
    const redis = runtime.started.get('redis');
    if (redis && (generator === 'segment' || generator === 'redis-incr')) {
      redisProgram = `${redis.program.name} ${redis.program.version}`;
      if (hasRedisBenchmark) {
        process.stderr.write(`  redis-benchmark INCR, ${REDIS_BENCHMARK_REQUESTS.toLocaleString('en-US')} requests\n`);
        ceilings.push({ generator, ...(await redisBenchmark(redis.endpoint('redis'))) });
      }
    }
    // One design at a time on the machine: this one's processes go before the next one starts.
    await runtime.stopAll();
    runtime.started.clear();
  }
});

const p99s = (f: Figures, w: Figures) => `${formatLatency(f.p99Us)} / ${formatLatency(w.p99Us)}`;
const checked = (f: FaultlineFigures) => `${f.duplicates ?? '-'} / ${f.nonMonotonic ?? '-'}`;

console.log(`\none ID service instance per generator (Node ${process.version}), wrk ${versionOf('wrk', ['-v'], /wrk (\S+)/)} (1 thread), ${redisProgram || 'redis-server'} for segment and redis-incr;`);
console.log(`closed model, ${connections} connections, ${seconds} s per drive, in the order faultline batch 1, wrk batch 1, faultline batch ${batch}, wrk batch ${batch}`);
console.log(`on the same instance; load tools, services and everything else share this machine's ${availableParallelism()} cores.\n`);
console.log(`| generator | faultline calls/s (batch 1) | wrk req/s (batch 1) | ratio | p99 faultline / wrk | faultline IDs/s (batch ${batch}) | wrk IDs/s (batch ${batch}) | ratio | p99 faultline / wrk | duplicate_ids / non_monotonic (batch 1; batch ${batch}) |`);
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${r.generator} | ${count(r.faultline1.callsPerS)} | ${count(r.wrk1.callsPerS)} | ${(r.faultline1.callsPerS / r.wrk1.callsPerS).toFixed(2)} | ${p99s(r.faultline1, r.wrk1)} ` +
      `| ${count(r.faultlineN.idsPerS)} | ${count(r.wrkN.idsPerS)} | ${(r.faultlineN.idsPerS / r.wrkN.idsPerS).toFixed(2)} | ${p99s(r.faultlineN, r.wrkN)} | ${checked(r.faultline1)}; ${checked(r.faultlineN)} |`,
  );
}
for (const c of ceilings) {
  console.log(`\nredis-benchmark -t incr -n ${REDIS_BENCHMARK_REQUESTS} -c ${connections}, against ${c.generator}'s Redis (the ceiling of one Redis): ${count(c.incrPerS)} INCR/s, p50 ${c.p50}`);
}
if (!hasRedisBenchmark) console.log('\nredis-benchmark is not installed: the Redis ceiling rows are skipped (apt-get install redis-tools)');
console.log(`\nfaultline: calls answered in the window per second (totals.throughput), IDs/s = calls/s × IDs per call, latency from each call's send; wrk: Requests/sec × IDs per call, its --latency p99.`);
console.log('duplicate_ids / non_monotonic: the ids checker over every ID faultline received in that drive (must be 0 / 0).');

const found = rows.filter((r) => [r.faultline1, r.faultlineN].some((f) => f.duplicates !== 0 || f.nonMonotonic !== 0));
for (const r of found) console.error(`ids-vs-wrk: ${r.generator}: the ids checker found duplicate_ids / non_monotonic ${checked(r.faultline1)} at batch 1 and ${checked(r.faultlineN)} at batch ${batch}`);
if (failure !== undefined) console.error(`ids-vs-wrk: ${failure instanceof Error ? failure.message : String(failure)}`);
if (failure !== undefined || found.length > 0) process.exitCode = 1;
