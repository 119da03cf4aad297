import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { parseDuration } from '../../base/duration.ts';
import { nginxConfig, nginxService } from '../../../targets/nginx/nginx.ts';
import { http, type ClosedHttpWorkload, type HttpWorkload } from '../../drivers/http-workload.ts';
import { formatLatency } from '../../result/format.ts';
import type { Endpoint, Runtime, StartedService } from '../../runtime/runtime.ts';
import type { Topology } from '../../runtime/service-spec.ts';
import { Wait } from '../../runtime/wait.ts';
import { driveHttp } from '../../testing/drive.ts';

/** nginx answering every request with a fixed 2-byte body, one worker, no access log. */
export const staticNginx = nginxService('nginx-static', 'bench', Wait.forHttp('/'), (ctx) =>
  nginxConfig(ctx.dir, 1, `  keepalive_requests 1000000;
  server { listen ${ctx.host}:${ctx.ports.http}; location / { return 200 'ok'; } }
`),
);

/** The option checks of a benchmark script, from `optionChecks`. */
export interface OptionChecks {
  /** Prints `<script>: <message>` and exits with 2, the exit code of invalid input. */
  fail(message: string): never;
  /** `text` as a whole number above 0, else fails naming the option `--<name>`. */
  positiveInt(name: string, text: string): number;
  /** `text` as a duration in ms, else fails naming the option `--<name>`. */
  duration(name: string, text: string): number;
}

/** Checks of a script's options, run before anything starts, so bad input stops it without a broker or a child to clean up. */
export function optionChecks(script: string): OptionChecks {
  const fail = (message: string): never => {
    process.stderr.write(`${script}: ${message}\n`);
    process.exit(2);
  };
  return {
    fail,
    duration(name, text) {
      return parseDuration(text) ?? fail(`--${name} '${text}' is not a duration; use e.g. 5s`);
    },
    positiveInt(name, text) {
      const n = Number(text);
      if (!Number.isInteger(n) || n <= 0) fail(`--${name} '${text}' must be a positive whole number`);
      return n;
    },
  };
}

/** A script's string options with their defaults, read from the command line, and the checks to read them with. */
export function benchOptions<K extends string>(script: string, defaults: Record<K, string>): OptionChecks & { values: Record<K, string>; wholeSeconds(name: K): number } {
  const checks = optionChecks(script);
  const options = Object.fromEntries(Object.entries<string>(defaults).map(([k, v]) => [k, { type: 'string' as const, default: v }]));
  const values = parseArgs({ options }).values as Record<K, string>;
  return {
    ...checks,
    values,
    // Tools such as wrk and ghz run for whole seconds.
    wholeSeconds(name) {
      const ms = checks.duration(name, values[name]);
      if (ms < 1000 || ms % 1000 !== 0) checks.fail(`--${name} '${values[name]}' must be whole seconds, at least 1s (wrk's -d)`);
      return ms;
    },
  };
}

/** Figures of one benchmark drive. */
export interface DriveFigures {
  rps: number;
  p50: string;
  p90: string;
  p99: string;
  /** The same percentiles in µs; in the open model counted from each request's scheduled time. */
  latencyUs: { p50: number; p90: number; p99: number };
  /**
   * Sends in the window and how far behind schedule they left: `late` is over the sink's
   * threshold (ms); `lagUs` is the sink's `send_lag` distribution (µs), when it records one.
   */
  sends: { sent: number; late: number; dropped: number; maxLagMs: number; lagUs?: { p50: number; p99: number } };
  /** Operations that finished in the window or after it (ok and errors). */
  requests: number;
  /** CPU time this process spent over the drive (user + system, µs): the generator's own cost, recording included. */
  cpuUs: number;
}

/** Drives `url` for `durationMs` through the run's own measure-window step, with no warm-up. */
async function drive(url: string, workload: HttpWorkload, durationMs: number): Promise<DriveFigures> {
  const { hostname, port } = new URL(url);
  const cpuBefore = process.cpuUsage();
  const { totals, sends, distributions } = await driveHttp({ host: hostname, port: Number(port) }, workload, { windowMs: durationMs });
  const cpu = process.cpuUsage(cpuBefore);
  if (totals.errors > 0) throw new Error(`${totals.errors} errors while driving ${url}`);
  const { p50, p90, p99 } = totals.latencyUs;
  const lag = distributions.send_lag?.latencyUs;
  return {
    rps: totals.throughput,
    p50: formatLatency(p50),
    p90: formatLatency(p90),
    p99: formatLatency(p99),
    latencyUs: { p50, p90, p99 },
    sends: { ...sends, ...(lag ? { lagUs: { p50: lag.p50, p99: lag.p99 } } : {}) },
    requests: totals.ops,
    cpuUs: cpu.user + cpu.system,
  };
}

/** Closed model: `connections` connections as fast as the target answers. */
export function driveClosed(url: string, opts: { connections: number; durationMs: number; engine: ClosedHttpWorkload['engine']; path?: string }): Promise<DriveFigures> {
  return drive(url, http({ model: 'closed', connections: opts.connections, path: opts.path ?? '/', engine: opts.engine }), opts.durationMs);
}

/** Open model at a fixed rate (req/s), on `path` (default `/`). */
export function driveOpen(url: string, opts: { rate: number; durationMs: number; path?: string }): Promise<DriveFigures> {
  return drive(url, http({ model: 'open', rate: opts.rate, path: opts.path ?? '/' }), opts.durationMs);
}

/** Starts a topology with every link direct (no proxy) in any runtime and returns the URL of its first entry endpoint. */
export async function startDirect(runtime: Runtime, topology: Topology): Promise<{ url: string; entry: StartedService }> {
  const started = new Map<string, StartedService>();
  for (const spec of topology.services) {
    const links: Record<string, Endpoint> = {};
    for (const l of (topology.links ?? []).filter((x) => x.from === spec.name)) links[l.name] = started.get(l.to)!.peerEndpoint(l.port);
    started.set(spec.name, await runtime.start(spec, { links }));
  }
  const first = topology.entries[0]!.endpoints[0]!;
  const entry = started.get(first.service)!;
  return { url: entry.url(first.port), entry };
}

/**
 * Before a measured run: waits, at most `quietWaitMs`, for a second in which other processes
 * use no more than `busyCores` (`othersInASecond` measures one second and returns their cores),
 * so the tools being compared are the load being measured.
 */
export async function waitQuiet(othersInASecond: () => Promise<number>, quietWaitMs: number, busyCores: number): Promise<void> {
  const began = performance.now();
  for (;;) {
    const others = await othersInASecond();
    const waited = Math.round((performance.now() - began) / 1000);
    if (others <= busyCores) {
      if (waited > 1) process.stderr.write(`  quiet after ${waited} s\n`);
      return;
    }
    if (performance.now() - began >= quietWaitMs) {
      process.stderr.write(`  waited ${waited} s; other processes still use ${others.toFixed(2)} cores: measuring anyway\n`);
      return;
    }
  }
}

/** CPU ticks (1/100 s) of this process's reaped children: a finished tool's JVM. */
export function reapedChildTicks(): number {
  const text = readFileSync('/proc/self/stat', 'utf8');
  const f = text.slice(text.lastIndexOf(')') + 2).split(' ');
  return Number(f[13]) + Number(f[14]);
}

/** CPU ticks every core spent busy so far (not idle, not waiting on I/O). */
export function machineTicks(): number {
  const f = readFileSync('/proc/stat', 'utf8').split('\n')[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user, nice, system, , , irq, softirq, steal] = f as [number, number, number, number, number, number, number, number];
  return user + nice + system + irq + softirq + steal;
}

/** Cores used over a run: the load tool (this process and its finished children), the broker, every other process. */
export type Cpu = { tool: number; broker: number; others: number };

/**
 * Runs `work` and measures the CPU it took, in cores: this process plus its reaped children
 * (the tool), the broker, the rest of the machine; and how long it ran (s).
 */
export async function withCpu<T>(broker: StartedService, work: () => Promise<T>): Promise<{ result: T; cpu: Cpu; seconds: number }> {
  const own0 = process.cpuUsage();
  const [child0, all0, b0, t0] = [reapedChildTicks(), machineTicks(), (await broker.usage())?.cpuUs ?? 0, performance.now()];
  const result = await work();
  const own = process.cpuUsage(own0);
  const [child1, all1, b1, t1] = [reapedChildTicks(), machineTicks(), (await broker.usage())?.cpuUs ?? 0, performance.now()];
  const seconds = (t1 - t0) / 1000;
  const tool = ((own.user + own.system) / 1e6 + (child1 - child0) / 100) / seconds;
  const brokerCores = (b1 - b0) / 1e6 / seconds;
  return { result, seconds, cpu: { tool, broker: brokerCores, others: Math.max(0, (all1 - all0) / 100 / seconds - tool - brokerCores) } };
}

/** The program `runProgram` runs now, ended by `stopProgram` if the script is interrupted. */
let runningChild: ChildProcess | undefined;

/** Runs a program to its end and returns what it printed; throws on a non-zero exit. */
export function runProgram(command: string, args: string[]): Promise<{ stdout: string; stderr: string }> {
  const child = spawn(command, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  runningChild = child;
  const out: Buffer[] = [];
  const err: Buffer[] = [];
  child.stdout.on('data', (b: Buffer) => out.push(b));
  child.stderr.on('data', (b: Buffer) => err.push(b));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code, signal) => {
      runningChild = undefined;
      const stdout = Buffer.concat(out).toString();
      const stderr = Buffer.concat(err).toString();
      if (code === 0) resolve({ stdout, stderr });
      else reject(new Error(`${command} exited with ${code ?? signal}: ${(stderr || stdout).trim().split('\n').slice(-5).join('\n')}`));
    });
  });
}

/** Sends SIGTERM to the program `runProgram` is running, if any: on an interrupt or a failed run, before the broker stops. */
export function stopProgram(): void {
  runningChild?.kill('SIGTERM');
}

/** The version `java -version` prints, or `unknown`. */
export function javaVersion(): string {
  const r = spawnSync('java', ['-version'], { encoding: 'utf8' });
  return /^\S+ version "([^"]+)"/m.exec(`${r.stderr}${r.stdout}`)?.[1] ?? 'unknown';
}

/**
 * One temp dir for everything a benchmark run makes (each service's dir, each drive's history),
 * set as TMPDIR before `makeRuntime` is called, and removed with the runtime's services on any
 * way out: on Ctrl-C or SIGTERM here, a drive interrupted there never gets to remove its own.
 * The script removes it itself at its normal end (`rmSync(scratch, …)` after `stopAll`).
 */
export function benchScratch<R extends Runtime>(name: string, makeRuntime: () => R): { scratch: string; runtime: R } {
  const scratch = mkdtempSync(join(tmpdir(), `faultline-${name}-`));
  process.env.TMPDIR = scratch;
  const runtime = makeRuntime();
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.once(signal, () => {
      stopProgram();
      void runtime.stopAll().finally(() => {
        rmSync(scratch, { recursive: true, force: true });
        process.exit(130);
      });
    });
  }
  return { scratch, runtime };
}

/** The version a program prints for `args`, matched by `pattern`'s first group, or `unknown`. */
export function versionOf(command: string, args: string[], pattern: RegExp): string {
  const r = spawnSync(command, args, { encoding: 'utf8' });
  return pattern.exec(`${r.stdout}${r.stderr}`)?.[1] ?? 'unknown';
}

/** A wrk latency (`812.00us`, `1.23ms`, `2.01s`, `1.50m`) in µs. */
function wrkLatencyUs(text: string | undefined): number {
  const m = /^([\d.]+)(us|ms|s|m|h)$/.exec(text ?? '');
  if (!m) throw new Error(`wrk printed a latency faultline cannot read: '${text}'`);
  return Number(m[1]) * { us: 1, ms: 1e3, s: 1e6, m: 6e7, h: 3.6e9 }[m[2] as 'us' | 'ms' | 's' | 'm' | 'h'];
}

/**
 * Runs wrk with `args` (which include `--latency`) and reads its requests per second and its
 * p50/p99 in µs; any socket error or non-2xx answer fails it, named by `what`.
 */
export async function wrkFigures(args: string[], what: string): Promise<{ rps: number; p50Us: number; p99Us: number }> {
  const { stdout } = await runProgram('wrk', args);
  const non2xx = Number(/Non-2xx or 3xx responses:\s+(\d+)/.exec(stdout)?.[1] ?? 0);
  const socket = /Socket errors:\s+(.*)/.exec(stdout)?.[1];
  if (non2xx > 0 || socket) throw new Error(`${what}: ${[non2xx > 0 ? `${non2xx} non-2xx answers` : '', socket ? `socket errors: ${socket}` : ''].filter(Boolean).join('; ')}`);
  const rps = Number(/Requests\/sec:\s+([\d.]+)/.exec(stdout)?.[1]);
  if (!Number.isFinite(rps)) throw new Error(`${what}: no Requests/sec in its output:\n${stdout}`);
  return { rps, p50Us: wrkLatencyUs(/50%\s+(\S+)/.exec(stdout)?.[1]), p99Us: wrkLatencyUs(/99%\s+(\S+)/.exec(stdout)?.[1]) };
}

/**
 * Runs a benchmark's measured part; on any way out stops the program `runProgram` runs and every
 * service of `runtime`, and removes `scratch`. Resolves the error it ended with (undefined when
 * none), so the script prints what it measured before it reports that.
 */
export async function measure(scratch: string, runtime: Runtime, work: () => Promise<void>): Promise<unknown> {
  try {
    await work();
    return undefined;
  } catch (err) {
    return err;
  } finally {
    stopProgram();
    await runtime.stopAll();
    rmSync(scratch, { recursive: true, force: true });
  }
}

/** A rate or count rounded, with thousands separators: 12,345. */
export function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}
