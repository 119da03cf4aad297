// Benchmark (not a test): how fast the closed-model driver's engines are next to wrk, and what
// each costs in CPU per request (and nginx with it), then how long the CLI takes from start to
// its first request. Prints one run's figures as a Markdown table.
//   node harness/tooling/bench/driver-vs-wrk.ts [--duration 10s] [--connections 50] [--rounds 5]
// Each generator drives for `duration` in all, split into `rounds` slices that take turns
// (wrk, undici, autocannon, raw, then the next round starting one further along), so every
// engine is compared with a wrk drive seconds away from it: on a shared machine the rate one
// drive reaches swings by half from one minute to the next.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { MetricSink } from '../../metrics/sink.ts';
import type { RunResult } from '../../result/result.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import { parseDuration } from '../../base/duration.ts';
import { driveClosed, staticNginx } from './bench-helpers.ts';
import { runCli } from '../../testing/cli.ts';

const { values } = parseArgs({
  options: { duration: { type: 'string', default: '10s' }, connections: { type: 'string', default: '50' }, rounds: { type: 'string', default: '5' } },
});
const durationMs = parseDuration(values.duration)!;
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const sliceMs = durationMs / rounds;
if (!(sliceMs >= 1000) || !Number.isInteger(sliceMs / 1000)) throw new Error(`--duration ${values.duration} / --rounds ${rounds} must be whole seconds (wrk's -d), at least 1 s`);

/** One drive of one generator: its rate and p99, its requests, and the CPU it and nginx spent over it (µs; undefined when not measured). */
interface Drive {
  rps: number;
  p99: string;
  requests: number;
  cpuUs: number | undefined;
  nginxUs: number;
}

/** wrk's own CPU comes from /usr/bin/time (Debian package `time`): spawnSync reports no rusage of its child. */
const timeBin = existsSync('/usr/bin/time') ? '/usr/bin/time' : undefined;

function wrk(url: string): Omit<Drive, 'nginxUs'> {
  const args = ['-t1', `-c${connections}`, `-d${sliceMs / 1000}s`, '--latency', url];
  const r = timeBin ? spawnSync(timeBin, ['-f', 'cpu %U %S', 'wrk', ...args], { encoding: 'utf8' }) : spawnSync('wrk', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.error?.message}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const requests = Number(/(\d+) requests in/.exec(r.stdout)?.[1]);
  const p99 = /99%\s+(\S+)/.exec(r.stdout)?.[1] ?? '?';
  const cpu = /^cpu ([\d.]+) ([\d.]+)$/m.exec(r.stderr);
  return { rps, p99, requests, cpuUs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1e6 : undefined };
}

function median(xs: readonly number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  const m = s.length >> 1;
  return s.length % 2 === 1 ? s[m]! : (s[m - 1]! + s[m]!) / 2;
}

async function startToFirstRequest(): Promise<number> {
  const out = await mkdtemp(join(tmpdir(), 'faultline-bench-'));
  try {
    await runCli(['run', 'cluster-vs-single', '--design', 'single', '--duration', '1s', '--warmup', '0s', '--out', out]).done;
    const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
    return result.environment.startToFirstRequestMs!;
  } finally {
    await rm(out, { recursive: true, force: true });
  }
}

function recorderMemory(): { seconds: number; heapMiB: number }[] {
  const recorder = new MetricSink({ windowStartMs: 0, lateThresholdMs: 10 });
  const points: { seconds: number; heapMiB: number }[] = [];
  let x = 1;
  for (let s = 1; s <= 600; s++) {
    for (let i = 0; i < 5000; i++) {
      x = (x * 1103515245 + 12345) % 2147483648;
      recorder.op('op', s * 1000 - 1, 500 + (x % 20_000), 'ok');
    }
    recorder.tick(s * 1000);
    if (s === 60 || s === 600) {
      globalThis.gc?.();
      points.push({ seconds: s, heapMiB: Math.round((process.memoryUsage().heapUsed / 2 ** 20) * 10) / 10 });
    }
  }
  recorder.destroy();
  return points;
}

// First, while the heap holds nothing but the modules: twenty drives later it holds what they left behind too.
const mem = recorderMemory();
const runId = `bench${process.pid}`;
const runtime = new LocalRuntime({ runId });
try {
  const nginx = await runtime.start(staticNginx);
  const url = nginx.url();
  /** nginx's CPU so far (µs): its master and worker, from /proc in 10 ms ticks. */
  const nginxCpuUs = async () => (await nginx.usage())?.cpuUs ?? NaN;
  const closed = (engine: 'undici' | 'autocannon' | 'raw') => () => driveClosed(url, { connections, durationMs: sliceMs, engine });
  const generators: { name: string; drive: () => Promise<Omit<Drive, 'nginxUs'>> }[] = [
    { name: 'wrk 4.1 (1 thread)', drive: async () => wrk(url) },
    { name: 'faultline closed model, undici engine (default)', drive: closed('undici') },
    { name: 'faultline closed model, autocannon engine', drive: closed('autocannon') },
    { name: 'faultline closed model, raw engine', drive: closed('raw') },
  ];
  const drives = generators.map((): Drive[] => []);
  for (let round = 0; round < rounds; round++) {
    for (let turn = 0; turn < generators.length; turn++) {
      const g = (round + turn) % generators.length;
      const before = await nginxCpuUs();
      const d = await generators[g]!.drive();
      drives[g]![round] = { ...d, nginxUs: (await nginxCpuUs()) - before };
    }
  }
  await runtime.stopAll();
  const first = await startToFirstRequest();
  const wrkDrives = drives[0]!;
  const total = (ds: Drive[], f: (d: Drive) => number) => ds.reduce((t, d) => t + f(d), 0);
  const us = (n: number | undefined) => (n === undefined ? 'not measured' : n.toFixed(1));
  console.log(`\nclosed model, ${connections} connections, ${durationMs / 1000} s each in ${rounds} turns of ${sliceMs / 1000} s, against ${nginx.program.name} ${nginx.program.version} (static 200 'ok', 1 worker); node ${process.version}\n`);
  console.log('| load generator | req/s (median turn) | p99 (that turn) | ratio to wrk (median of turns) | generator CPU µs/request | nginx CPU µs/request |\n| --- | ---: | ---: | ---: | ---: | ---: |');
  generators.forEach((g, i) => {
    const ds = drives[i]!;
    const mid = [...ds].sort((a, b) => a.rps - b.rps)[(ds.length - 1) >> 1]!;
    const ratio = median(ds.map((d, r) => d.rps / wrkDrives[r]!.rps));
    const requests = total(ds, (d) => d.requests);
    const cpu = ds.every((d) => d.cpuUs !== undefined) ? total(ds, (d) => d.cpuUs!) / requests : undefined;
    console.log(`| ${g.name} | ${Math.round(mid.rps).toLocaleString('en-US')} | ${mid.p99} | ${ratio.toFixed(2)} | ${us(cpu)} | ${us(total(ds, (d) => d.nginxUs) / requests)} |`);
  });
  console.log('\nreq/s turn by turn (each turn\'s drives seconds apart):');
  generators.forEach((g, i) => console.log(`  ${g.name}: ${drives[i]!.map((d) => Math.round(d.rps).toLocaleString('en-US')).join(', ')}`));
  console.log(`\nCPU µs/request: user + system time over all turns ÷ requests; faultline's from process.cpuUsage() (recording included), wrk's from ${timeBin ?? '(no /usr/bin/time: not measured)'}, nginx's from /proc/<pid>/stat of its process group (10 ms ticks).`);
  console.log(`CLI start to first request: ${first} ms (cluster-vs-single, design single; includes loading the scenario and starting the service)`);
  console.log(`recorder heap after ${mem.map((m) => `${m.seconds} s: ${m.heapMiB} MiB`).join(', after ')} (5,000 values a second${globalThis.gc ? '' : '; run with --expose-gc for settled figures'})`);
} finally {
  await runtime.stopAll();
}
