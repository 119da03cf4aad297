// Benchmark (not a test): faultline's open model next to vegeta, an independent open-model
// generator, at the same rates against one http-service process (GET /health). The goal:
// faultline's p50 within 10% + 50 µs and its p99 within 20% of vegeta's.
//   node harness/tooling/bench/open-vs-vegeta.ts [--duration 10s] [--rates 500,2000,5000] [--warmup 2s] [--quiet-wait 20s]
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { parseArgs } from 'node:util';
import { httpServiceSpec } from '../../../targets/http-service/http-service.ts';
import { parseDuration } from '../../base/duration.ts';
import { findGoTool, goTools } from '../../base/go-tools.mjs';
import { LATE_THRESHOLD_MS } from '../../drivers/pacer.ts';
import { formatLatency } from '../../result/format.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import { driveOpen, machineTicks, optionChecks, waitQuiet } from './bench-helpers.ts';

const PATH = '/health';
/** faultline's p50 may differ from vegeta's by this fraction of it plus P50_SLACK_US. */
const P50_TOLERANCE = 0.1;
const P50_SLACK_US = 50;
const P99_TOLERANCE = 0.2;
/** Other processes using more than this many cores during a drive make its comparison unfair. */
const BUSY_CORES = 0.2;
/** The sink's distribution of each open-model send's lag behind schedule (µs), when it records one. */
const SEND_LAG = 'send_lag';

const { fail } = optionChecks('open-vs-vegeta');

const { values } = parseArgs({
  options: {
    duration: { type: 'string', default: '10s' },
    rates: { type: 'string', default: '500,2000,5000' },
    warmup: { type: 'string', default: '2s' },
    'quiet-wait': { type: 'string', default: '20s' },
  },
});
const durationMs = parseDuration(values.duration) ?? fail(`--duration '${values.duration}' is not a duration; use e.g. 10s`);
const warmupMs = parseDuration(values.warmup) ?? fail(`--warmup '${values.warmup}' is not a duration; use e.g. 2s`);
const quietWaitMs = parseDuration(values['quiet-wait']) ?? fail(`--quiet-wait '${values['quiet-wait']}' is not a duration; use e.g. 20s, or 0s not to wait`);
const rates = values.rates.split(',').map(Number);
if (rates.some((r) => !Number.isInteger(r) || r <= 0)) fail(`--rates '${values.rates}' must be positive whole req/s, comma-separated, e.g. 500,2000,5000`);

const vegetaTool = goTools.find((t) => t.command === 'vegeta')!;
const vegetaBin = findGoTool(vegetaTool) ?? fail(`vegeta is not installed: npm run setup, or go install ${vegetaTool.module}`);

/** The module version built into the binary (`go version -m`), else the pinned one, and the Go it was built with. */
function vegetaVersion(): string {
  const m = spawnSync('go', ['version', '-m', vegetaBin], { encoding: 'utf8' });
  const built = /^\S+:\s+(go\S+)/.exec(m.stdout ?? '')?.[1];
  const mod = /^\s+mod\s+\S+\s+(v\S+)/m.exec(m.stdout ?? '')?.[1];
  return `vegeta ${mod ?? `${vegetaTool.version} (pinned; go version -m could not read the binary)`}${built ? ` built with ${built}` : ''}`;
}

/** The parts of `vegeta report -type=json` read here; latencies in ns. */
interface VegetaReport {
  latencies: { '50th': number; '90th': number; '99th': number };
  requests: number;
  throughput: number;
  success: number;
  status_codes: Record<string, number>;
  errors: string[];
}

/** `vegeta attack` at `rate` for `ms`, piped into `vegeta report -type=json`. */
function vegeta(url: string, rate: number, ms: number): Promise<VegetaReport> {
  const attack = spawn(vegetaBin, ['attack', `-rate=${rate}/s`, `-duration=${ms}ms`, '-keepalive=true'], { stdio: ['pipe', 'pipe', 'pipe'] });
  // The results go process to process through one OS pipe. This process closes its own end, or
  // it would never see the pipe close and the attack's 'close' would never come.
  const report = spawn(vegetaBin, ['report', '-type=json'], { stdio: [attack.stdout, 'pipe', 'pipe'] });
  attack.stdout.destroy();
  attack.stdin.end(`GET ${url}${PATH}\n`);
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  report.stdout.on('data', (b: Buffer) => out.push(b));
  report.stderr.on('data', (b: Buffer) => err.push(b));
  attack.stderr.on('data', (b: Buffer) => err.push(b));
  const exited = (p: ChildProcess) => new Promise<number | null>((resolve, reject) => {
    p.on('error', reject);
    p.on('close', (code) => resolve(code));
  });
  return Promise.all([exited(attack), exited(report)]).then(([a, r]) => {
    if (a !== 0 || r !== 0) throw new Error(`vegeta exited with ${a} (attack) and ${r} (report): ${Buffer.concat(err).toString().trim()}`);
    return JSON.parse(Buffer.concat(out).toString()) as VegetaReport;
  });
}

/** CPU ticks (1/100 s) used so far by this process, its reaped children (vegeta) and its living descendants (the service). */
function ownTicks(): number {
  const stats = new Map<number, { ppid: number; ticks: number }>();
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    let text: string;
    try {
      text = readFileSync(`/proc/${name}/stat`, 'utf8');
    } catch {
      continue;
    }
    // Fields after the command name (which may hold spaces): state ppid … utime stime cutime cstime.
    const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
    stats.set(Number(name), { ppid: Number(f[1]), ticks: Number(f[11]) + Number(f[12]) + Number(f[13]) + Number(f[14]) });
  }
  const ours = new Set([process.pid]);
  let total = 0;
  for (let grew = true; grew;) {
    grew = false;
    for (const [pid, s] of stats) {
      if (!ours.has(pid) && ours.has(s.ppid)) {
        ours.add(pid);
        grew = true;
      }
    }
  }
  for (const pid of ours) total += stats.get(pid)?.ticks ?? 0;
  return total;
}

/** Runs `work` and reports the CPU (in cores) used by the generator and target, and by everything else on the machine. */
async function withCpu<T>(work: () => Promise<T>): Promise<{ result: T; cpu: { ours: number; others: number } }> {
  const [own0, all0, t0] = [ownTicks(), machineTicks(), performance.now()];
  const result = await work();
  const [own1, all1, t1] = [ownTicks(), machineTicks(), performance.now()];
  const seconds = (t1 - t0) / 1000;
  const ours = (own1 - own0) / 100 / seconds;
  return { result, cpu: { ours, others: Math.max(0, (all1 - all0) / 100 / seconds - ours) } };
}

function quiet(): Promise<void> {
  return waitQuiet(async () => (await withCpu(() => sleep(1000))).cpu.others, quietWaitMs, BUSY_CORES);
}

interface Row {
  rate: number;
  tool: 'vegeta' | 'faultline';
  rps: number;
  us: { p50: number; p90: number; p99: number };
  lag: string;
  note: string;
  cpu: { ours: number; others: number };
}

const runtime = new LocalRuntime({ runId: `truthbench${process.pid}` });
for (const signal of ['SIGINT', 'SIGTERM'] as const) {
  process.once(signal, () => void runtime.stopAll().finally(() => process.exit(130)));
}
const rows: Row[] = [];
let serviceProgram = '';
try {
  const service = await runtime.start(httpServiceSpec());
  serviceProgram = `${service.program.name} ${service.program.version}`;
  const url = service.url();
  const tools = {
    vegeta: async (rate: number): Promise<Row> => {
      await vegeta(url, rate, warmupMs);
      const { result: r, cpu } = await withCpu(() => vegeta(url, rate, durationMs));
      const ns = r.latencies;
      const bad = r.success < 1 ? `; ${((1 - r.success) * 100).toFixed(2)}% failed: ${JSON.stringify(r.status_codes)} ${r.errors.slice(0, 3).join('; ')}` : '';
      return { rate, tool: 'vegeta', rps: r.throughput, us: { p50: ns['50th'] / 1000, p90: ns['90th'] / 1000, p99: ns['99th'] / 1000 }, lag: '—', note: `${r.requests} requests${bad}`, cpu };
    },
    faultline: async (rate: number): Promise<Row> => {
      await driveOpen(url, { rate, durationMs: warmupMs, path: PATH });
      const { result: f, cpu } = await withCpu(() => driveOpen(url, { rate, durationMs, path: PATH }));
      const { sends } = f;
      const lag = sends.lagUs
        ? `${formatLatency(sends.lagUs.p50)} / ${formatLatency(sends.lagUs.p99)}`
        : `not recorded (no ${SEND_LAG} distribution); max ${sends.maxLagMs} ms`;
      return { rate, tool: 'faultline', rps: f.rps, us: f.latencyUs, lag, note: `${sends.sent} sent, ${sends.late} late (> ${LATE_THRESHOLD_MS} ms), ${sends.dropped} dropped`, cpu };
    },
  };
  for (const [i, rate] of rates.entries()) {
    // Alternate who goes first, so neither always meets a target the other just warmed or tired.
    const order = i % 2 === 0 ? (['vegeta', 'faultline'] as const) : (['faultline', 'vegeta'] as const);
    for (const tool of order) {
      process.stderr.write(`${rate} req/s: ${tool} (${warmupMs / 1000} s warm-up, ${durationMs / 1000} s measured)\n`);
      if (quietWaitMs > 0) await quiet();
      rows.push(await tools[tool](rate));
    }
  }
} finally {
  await runtime.stopAll();
}

/** Whether faultline's percentiles are within the goal of vegeta's at the same rate. */
function verdict(f: Row, v: Row): string {
  const d50 = f.us.p50 - v.us.p50;
  const d99 = f.us.p99 - v.us.p99;
  const ok50 = Math.abs(d50) <= P50_TOLERANCE * v.us.p50 + P50_SLACK_US;
  const ok99 = Math.abs(d99) <= P99_TOLERANCE * v.us.p99;
  const sign = (us: number) => `${us < 0 ? '−' : '+'}${formatLatency(Math.abs(us))}`;
  const part = (name: string, ok: boolean, d: number, limit: number) => `${name} ${ok ? 'yes' : 'no'} (${sign(d)}, limit ±${formatLatency(limit)})`;
  const head = ok50 && ok99 ? '**yes**' : '**no**';
  const others = Math.max(f.cpu.others, v.cpu.others);
  const busy = others > BUSY_CORES ? `; not a fair reading: other processes used up to ${others.toFixed(2)} cores, run again on a quiet machine` : '';
  return `${head}: ${part('p50', ok50, d50, P50_TOLERANCE * v.us.p50 + P50_SLACK_US)}, ${part('p99', ok99, d99, P99_TOLERANCE * v.us.p99)}${busy}`;
}

const cores = availableParallelism();
console.log(`\nopen model at a constant rate, GET ${PATH} on one http-service process, ${durationMs / 1000} s measured per drive after a ${warmupMs / 1000} s warm-up drive of the same tool;`);
console.log(`order alternates by rate; the generator and the target share this machine's ${cores} cores (each drive waits up to ${quietWaitMs / 1000} s for other processes to fall under ${BUSY_CORES} cores).`);
console.log(`${vegetaVersion()}; faultline on node ${process.version}; service: http-service on ${serviceProgram}\n`);
console.log('| rate | tool | achieved req/s | p50 | p90 | p99 | send lag p50 / p99 | within goal? |\n| ---: | --- | ---: | ---: | ---: | ---: | --- | --- |');
for (const r of rows) {
  const v = rows.find((x) => x.rate === r.rate && x.tool === 'vegeta')!;
  const goal = r.tool === 'faultline' ? verdict(r, v) : 'reference';
  console.log(`| ${r.rate.toLocaleString('en-US')} | ${r.tool} | ${Math.round(r.rps).toLocaleString('en-US')} | ${formatLatency(r.us.p50)} | ${formatLatency(r.us.p90)} | ${formatLatency(r.us.p99)} | ${r.lag} | ${goal} |`);
}
console.log(`\ngoal: faultline's p50 within 10% + ${P50_SLACK_US} µs and its p99 within 20% of vegeta's at the same rate.`);
console.log('faultline counts latency from each request\'s scheduled time, so its own send lag is in it; vegeta counts from the moment a worker sends, so its lag is not.');
console.log('achieved req/s: answered successfully in the window (faultline), successes over the attack and its wait (vegeta).');
console.log('CPU during each measured drive, in cores (generator + target / everything else on the machine):');
for (const r of rows) console.log(`- ${r.rate.toLocaleString('en-US')} req/s ${r.tool}: ${r.cpu.ours.toFixed(2)} / ${r.cpu.others.toFixed(2)}; ${r.note}`);
