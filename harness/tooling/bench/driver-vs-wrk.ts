// Benchmark (not a test): how fast the closed-model driver is next to wrk, and how long the CLI
// takes from start to its first request. Prints one run's figures as a Markdown table.
//   node harness/tooling/bench/driver-vs-wrk.ts [--duration 10s] [--connections 50]
import { spawnSync } from 'node:child_process';
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

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10s' }, connections: { type: 'string', default: '50' } } });
const durationMs = parseDuration(values.duration)!;
const connections = Number(values.connections);

function wrk(url: string): { rps: number; p99: string } {
  const r = spawnSync('wrk', ['-t1', `-c${connections}`, `-d${Math.round(durationMs / 1000)}s`, '--latency', url], { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`wrk failed: ${r.stderr || r.error?.message}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(r.stdout)?.[1]);
  const p99 = /99%\s+(\S+)/.exec(r.stdout)?.[1] ?? '?';
  return { rps, p99 };
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

const runtime = new LocalRuntime({ runId: `bench${process.pid}` });
try {
  const nginx = await runtime.start(staticNginx);
  const url = nginx.url();
  const ref = wrk(url);
  const undici = await driveClosed(url, { connections, durationMs, engine: 'undici' });
  const ac = await driveClosed(url, { connections, durationMs, engine: 'autocannon' });
  await runtime.stopAll();
  const first = await startToFirstRequest();
  const mem = recorderMemory();
  const row = (name: string, r: { rps: number; p99: string }) => `| ${name} | ${Math.round(r.rps).toLocaleString('en-US')} | ${r.p99} | ${(r.rps / ref.rps).toFixed(2)} |`;
  console.log(`\nclosed model, ${connections} connections, ${durationMs / 1000} s each, against ${nginx.program.name} ${nginx.program.version} (static 200 'ok', 1 worker); node ${process.version}\n`);
  console.log('| load generator | req/s | p99 | ratio to wrk |\n| --- | ---: | ---: | ---: |');
  console.log(row('wrk 4.1 (1 thread)', ref));
  console.log(row('faultline closed model, undici engine (default)', undici));
  console.log(row('faultline closed model, autocannon engine', ac));
  console.log(`\nCLI start to first request: ${first} ms (cluster-vs-single, design single; includes loading the scenario and starting the service)`);
  console.log(`recorder heap after ${mem.map((m) => `${m.seconds} s: ${m.heapMiB} MiB`).join(', after ')} (5,000 values a second${globalThis.gc ? '' : '; run with --expose-gc for settled figures'})`);
} finally {
  await runtime.stopAll();
}
