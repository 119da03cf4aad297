// Benchmark (not a test): lock acquire/release cycles per second with faultline's `lock`
// workload next to redis-benchmark running the same Redis commands at the same client count,
// and what Redlock over five masters costs over one instance.
// - faultline: `clients` lock clients (one process each), strategy `token`, each on its own
//   resource (`resourceChoice: 'own'`, so nobody contends: redis-benchmark has no contention
//   either), no hold and no think time: SET NX PX with a random token, the critical section
//   (begin, read, write, end on the protected resource), the compare-and-delete script.
// - redis-benchmark: `SET lock:__rand_int__ token NX PX 500` and
//   `EVAL <compare-and-delete> 1 lock:__rand_int__ token`, each `--requests` times over random
//   keys at the same client count; one cycle is one of each, so its rate is
//   1 / (1/SET rate + 1/EVAL rate).
// - ioredis in one process: the same two commands from Node, one event loop for every
//   connection: what the Redis part of a cycle costs from Node without faultline's processes.
// - Redlock: the same faultline workload on five masters with strategy `redlock`.
// Prints one run's figures as Markdown; exits 1 when a drive failed, an attempt found a lock
// taken or the checker found anything, 2 on invalid options.
//   node harness/tooling/bench/locks-vs-redis-benchmark.ts [--duration 5s] [--clients 8] [--requests 200000]
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { setTimeout as sleep } from 'node:timers/promises';
import { redisTarget } from '../../../targets/redis/redis.ts';
import { locksChecker } from '../../checkers/locks.ts';
import { ACQUISITIONS, FAILED_ATTEMPTS, HOLD, lockDriver } from '../../drivers/lock/lock-driver.ts';
import type { LockStrategy } from '../../drivers/lock/lock-protocol.ts';
import { lock, MAX_LOCK_CLIENTS } from '../../drivers/lock/lock-workload.ts';
import { formatLatency } from '../../result/format.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import type { Endpoint, StartedService } from '../../runtime/runtime.ts';
import { drive } from '../../testing/drive.ts';
import { benchOptions, benchScratch, count, measure, machineTicks, reapedChildTicks, runProgram, waitQuiet } from './bench-helpers.ts';

const { values, fail, positiveInt, duration } = benchOptions('locks-vs-redis-benchmark', { duration: '5s', clients: '8', requests: '200000' });
const durationMs = duration('duration', values.duration);
if (durationMs < 1000) fail(`--duration '${values.duration}' is too short to measure a rate: give at least 1s`);
const clients = positiveInt('clients', values.clients);
if (clients > MAX_LOCK_CLIENTS) fail(`--clients ${clients}: at most ${MAX_LOCK_CLIENTS} (each lock client is a process)`);
const requests = positiveInt('requests', values.requests);
for (const command of ['redis-server', 'redis-benchmark']) {
  if (spawnSync('which', [command], { encoding: 'utf8' }).status !== 0) fail(`${command} is not installed: apt-get install redis-server redis-tools (or npm run setup)`);
}

/** Each design is driven this long before faultline's window opens: client processes started, JIT warm. */
const WARMUP_MS = 1000;
/** The lease of every lock; no lock outlives its cycle, so it only has to be longer than one. */
const TTL_MS = 500;
/** Keys redis-benchmark draws `__rand_int__` from (`-r`): enough that two clients seldom meet on one. */
const KEYSPACE = 1_000_000;
/** Before each measured part: wait at most this long (ms) for a second in which other processes use at most BUSY_CORES. */
const QUIET_WAIT_MS = 60_000;
const BUSY_CORES = 0.3;
/** The client's compare-and-delete release, as lock-client.ts sends it. */
const COMPARE_AND_DELETE = "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0";

/** Cores used over a drive: this process (the lock driver, its protected resource and history), the load tool's processes (lock clients; redis-benchmark), the Redis servers, the rest of the machine. */
interface Cores {
  driver: number;
  tool: number;
  redis: number;
  others: number;
}

/** CPU so far, in ticks (1/100 s) except where said: this process (µs), the live lock clients, the reaped children, the Redis servers (µs), the whole machine. */
interface CpuMark {
  ownUs: number;
  clients: number;
  reaped: number;
  redisUs: number;
  machine: number;
  at: number;
}

/** CPU ticks of this process's live lock clients (children whose environment names one), from /proc. */
function lockClientTicks(): number {
  let ticks = 0;
  let children: string[];
  try {
    children = readFileSync(`/proc/${process.pid}/task/${process.pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean);
  } catch {
    return 0;
  }
  for (const pid of children) {
    try {
      if (!readFileSync(`/proc/${pid}/environ`, 'latin1').includes('FAULTLINE_LOCK_CLIENT=')) continue;
      const stat = readFileSync(`/proc/${pid}/stat`, 'latin1');
      const f = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      ticks += Number(f[11]) + Number(f[12]);
    } catch {
      // It exited while we looked.
    }
  }
  return ticks;
}

async function cpuMark(servers: readonly StartedService[]): Promise<CpuMark> {
  const redisUs = (await Promise.all(servers.map((s) => s.usage()))).reduce((sum, u) => sum + (u?.cpuUs ?? 0), 0);
  const own = process.cpuUsage();
  return { ownUs: own.user + own.system, clients: lockClientTicks(), reaped: reapedChildTicks(), redisUs, machine: machineTicks(), at: performance.now() };
}

/** Cores the whole machine used over one second, while this benchmark idles. */
async function othersInASecond(): Promise<number> {
  const before = machineTicks();
  await sleep(1000);
  return (machineTicks() - before) / 100;
}

function coresBetween(a: CpuMark, b: CpuMark): Cores {
  const seconds = (b.at - a.at) / 1000;
  const driver = (b.ownUs - a.ownUs) / 1e6 / seconds;
  const tool = (b.clients - a.clients + b.reaped - a.reaped) / 100 / seconds;
  const redis = (b.redisUs - a.redisUs) / 1e6 / seconds;
  return { driver, tool, redis, others: Math.max(0, (b.machine - a.machine) / 100 / seconds - driver - tool - redis) };
}

/** One faultline drive: cycles per second, acquire latency, the critical section's time, and what it cost. */
interface LockFigures {
  cyclesPerS: number;
  acquireUs: { p50: number; p99: number };
  holdUs: { p50: number; p99: number };
  cores: Cores;
}

/** The lock workload with `strategy` at `masters`, every client on its own resource, no hold, no think time. */
async function faultline(strategy: LockStrategy, masters: readonly Endpoint[], servers: readonly StartedService[]): Promise<LockFigures> {
  const workload = lock({ clients, resources: clients, resourceChoice: 'own', ttl: `${TTL_MS}ms`, hold: '0ms', think: '0ms' });
  // CPU over the measured window only: the clients' start and the warm-up are not the cycles counted.
  let marks: [CpuMark, CpuMark] | undefined;
  const meanwhile = async () => {
    await sleep(WARMUP_MS);
    const start = await cpuMark(servers);
    await sleep(durationMs);
    marks = [start, await cpuMark(servers)];
  };
  const r = await drive(lockDriver, 'redis', masters, workload, { strategy }, { windowMs: durationMs, warmupMs: WARMUP_MS, meanwhile });
  const t = r.summary.totals;
  const failed = r.summary.counters[FAILED_ATTEMPTS] ?? 0;
  if (t.errors > 0) throw new Error(`faultline ${strategy}: ${t.errors} acquisitions failed (${Object.entries(t.errorsByKind).map(([k, n]) => `${k} ${n}`).join(', ')})`);
  // Every client has a resource of its own: an attempt that found its lock taken means they contended after all.
  if (failed > 0) throw new Error(`faultline ${strategy}: ${failed} attempts found a lock taken, though no two clients share a resource`);
  const found = Object.entries(r.checks).filter(([, c]) => c.checker === locksChecker.name && (c.value ?? 0) !== 0);
  if (found.length > 0) throw new Error(`faultline ${strategy}: the locks checker found ${found.map(([n, c]) => `${n} ${c.value}`).join(', ')}`);
  const hold = r.summary.distributions[HOLD]!.latencyUs;
  return {
    cyclesPerS: (r.summary.counters[ACQUISITIONS] ?? 0) / (durationMs / 1000),
    acquireUs: { p50: t.latencyUs.p50, p99: t.latencyUs.p99 },
    holdUs: { p50: hold.p50, p99: hold.p99 },
    cores: coresBetween(...marks!),
  };
}

/**
 * The same two commands from Node with ioredis, the lock clients' library, in this one process
 * over `clients` connections, each connection looping SET NX PX then the compare-and-delete
 * script on a key of its own: what the Redis part of a cycle costs from Node when one event
 * loop serves every connection, without faultline's processes, IPC and protected resource.
 */
async function ioredisLoop(ep: Endpoint, server: StartedService): Promise<{ cyclesPerS: number; cores: Cores }> {
  const { Redis } = await import('ioredis');
  const conns = Array.from({ length: clients }, () => {
    const r = new Redis({ host: ep.host, port: ep.port, lazyConnect: true, enableAutoPipelining: false, maxRetriesPerRequest: 0 });
    r.defineCommand('compareAndDelete', { numberOfKeys: 1, lua: COMPARE_AND_DELETE });
    return r as typeof r & { compareAndDelete(key: string, value: string): Promise<number> };
  });
  try {
    await Promise.all(conns.map((c) => c.connect()));
    let cycles = 0;
    let stop = false;
    const loops = conns.map(async (c, i) => {
      while (!stop) {
        await c.set(`lock:own:${i}`, 'token', 'PX', TTL_MS, 'NX');
        await c.compareAndDelete(`lock:own:${i}`, 'token');
        cycles++;
      }
    });
    await sleep(WARMUP_MS);
    const start = await cpuMark([server]);
    const from = cycles;
    await sleep(durationMs);
    const end = await cpuMark([server]);
    const measured = cycles - from;
    stop = true;
    await Promise.all(loops);
    return { cyclesPerS: measured / ((end.at - start.at) / 1000), cores: coresBetween(start, end) };
  } finally {
    for (const c of conns) c.disconnect();
  }
}

/** One redis-benchmark command: its rate and latency (µs), and what it cost. */
interface CommandFigures {
  rps: number;
  avgUs: number;
  p50Us: number;
  p99Us: number;
  cores: Cores;
}

/** redis-benchmark `--csv`: a header line, then `"<command>","rps","avg","min","p50","p95","p99","max"` (ms). */
function parseCsv(stdout: string, what: string): Omit<CommandFigures, 'cores'> {
  const line = stdout.split('\n').find((l) => /^"[^"]*(SET|EVAL)/.test(l));
  const cells = line ? [...line.matchAll(/"([^"]*)"/g)].map((m) => m[1]!) : [];
  const [rps, avg, , p50, , p99] = cells.slice(1).map(Number);
  if (cells.length < 8 || ![rps, avg, p50, p99].every((x) => Number.isFinite(x))) throw new Error(`redis-benchmark ${what}: no figures in its CSV output:\n${stdout}`);
  return { rps: rps!, avgUs: avg! * 1000, p50Us: p50! * 1000, p99Us: p99! * 1000 };
}

async function redisBenchmark(ep: Endpoint, server: StartedService, what: string, command: string[]): Promise<CommandFigures> {
  const args = ['-h', ep.host, '-p', String(ep.port), '-c', String(clients), '-n', String(requests), '-r', String(KEYSPACE), '--csv', ...command];
  const before = await cpuMark([server]);
  const { stdout } = await runProgram('redis-benchmark', args);
  return { ...parseCsv(stdout, what), cores: coresBetween(before, await cpuMark([server])) };
}

const { scratch, runtime } = benchScratch('locks-bench', () => new LocalRuntime({ runId: `locksbench${process.pid}` }));

async function startMasters(masters: number): Promise<{ endpoints: Endpoint[]; servers: StartedService[] }> {
  const topology = redisTarget.topology(redisTarget.options.parse({ masters }));
  const servers: StartedService[] = [];
  for (const spec of topology.services) servers.push(await runtime.start(spec));
  return { endpoints: servers.map((s) => s.endpoint('redis')), servers };
}

let token: LockFigures | undefined;
let set: CommandFigures | undefined;
let release: CommandFigures | undefined;
let redlock: LockFigures | undefined;
let floor: { cyclesPerS: number; cores: Cores } | undefined;
let redisProgram = 'redis-server';
const failure = await measure(scratch, runtime, async () => {
  const one = await startMasters(1);
  redisProgram = `${one.servers[0]!.program.name} ${one.servers[0]!.program.version}`;
  const quiet = () => waitQuiet(othersInASecond, QUIET_WAIT_MS, BUSY_CORES);
  await quiet();
  process.stderr.write(`faultline lock, token, ${clients} clients, ${durationMs / 1000} s (after ${WARMUP_MS / 1000} s of warm-up)\n`);
  token = await faultline('token', one.endpoints, one.servers);
  await quiet();
  process.stderr.write(`redis-benchmark SET NX PX, ${requests.toLocaleString('en-US')} requests, ${clients} clients\n`);
  set = await redisBenchmark(one.endpoints[0]!, one.servers[0]!, 'SET', ['SET', 'lock:__rand_int__', 'token', 'NX', 'PX', String(TTL_MS)]);
  process.stderr.write(`redis-benchmark EVAL compare-and-delete, ${requests.toLocaleString('en-US')} requests, ${clients} clients\n`);
  release = await redisBenchmark(one.endpoints[0]!, one.servers[0]!, 'EVAL', ['EVAL', COMPARE_AND_DELETE, '1', 'lock:__rand_int__', 'token']);
  await quiet();
  process.stderr.write(`ioredis in one process, ${clients} connections, ${durationMs / 1000} s (after ${WARMUP_MS / 1000} s of warm-up)\n`);
  floor = await ioredisLoop(one.endpoints[0]!, one.servers[0]!);
  await runtime.stopAll();
  const five = await startMasters(5);
  await quiet();
  process.stderr.write(`faultline lock, redlock over 5 masters, ${clients} clients, ${durationMs / 1000} s\n`);
  redlock = await faultline('redlock', five.endpoints, five.servers);
});

const lat = (us: number) => formatLatency(us);
const coresText = (c: Cores) => `${(c.driver + c.tool).toFixed(2)} / ${c.redis.toFixed(2)} / ${c.others.toFixed(2)}`;

console.log(`\n${redisProgram}, no persistence; redis-benchmark ${/redis-benchmark (\S+)/.exec(spawnSync('redis-benchmark', ['--version'], { encoding: 'utf8' }).stdout)?.[1] ?? '?'}; Node ${process.version};`);
console.log(`${clients} clients; faultline ${durationMs / 1000} s per drive after ${WARMUP_MS / 1000} s of warm-up, each client on its own resource, no hold, no think time;`);
console.log(`redis-benchmark -c ${clients} -n ${requests} -r ${KEYSPACE} per command. Load tools, Redis and everything else share this machine's ${availableParallelism()} cores.\n`);
if (token && set && release) {
  // A cycle is one SET and one EVAL, one after the other on a connection: the time of each added.
  const rbCycles = 1 / (1 / set.rps + 1 / release.rps);
  const rbCycleUs = set.avgUs + release.avgUs;
  console.log('| tool | what one cycle is | cycles/s | mean cycle | acquire (SET NX PX) p50 / p99 | release p50 / p99 | cores: load tool / redis / others |');
  console.log('| --- | --- | ---: | ---: | ---: | ---: | ---: |');
  console.log(`| redis-benchmark | SET NX PX, then EVAL compare-and-delete (${count(set.rps)} and ${count(release.rps)} commands/s) | ${count(rbCycles)} | ${lat(rbCycleUs)} | ${lat(set.p50Us)} / ${lat(set.p99Us)} | ${lat(release.p50Us)} / ${lat(release.p99Us)} | SET ${coresText(set.cores)}; EVAL ${coresText(release.cores)} |`);
  console.log(`| faultline lock, token | SET NX PX, begin/read/write/end on the protected resource, EVAL compare-and-delete | ${count(token.cyclesPerS)} | ${lat((clients / token.cyclesPerS) * 1e6)} | ${lat(token.acquireUs.p50)} / ${lat(token.acquireUs.p99)} | — | ${coresText(token.cores)} |`);
  if (floor) console.log(`| ioredis, one process (not faultline) | SET NX PX, then the compare-and-delete script, ${clients} connections on one event loop | ${count(floor.cyclesPerS)} | ${lat((clients / floor.cyclesPerS) * 1e6)} | — | — | ${coresText(floor.cores)} |`);
  if (redlock) console.log(`| faultline lock, redlock (5 masters) | the same, SET and EVAL on all five masters | ${count(redlock.cyclesPerS)} | ${lat((clients / redlock.cyclesPerS) * 1e6)} | ${lat(redlock.acquireUs.p50)} / ${lat(redlock.acquireUs.p99)} | — | ${coresText(redlock.cores)} |`);
  console.log(`\nfaultline token / redis-benchmark: ${(token.cyclesPerS / rbCycles).toFixed(2)}× the cycles per second.`);
  if (floor) console.log(`ioredis in one process / redis-benchmark: ${(floor.cyclesPerS / rbCycles).toFixed(2)}× (${count(((floor.cores.driver) * 1e6) / floor.cyclesPerS)} µs of CPU per cycle).`);
  if (redlock) console.log(`Redlock over 5 masters / token on one: ${(redlock.cyclesPerS / token.cyclesPerS).toFixed(2)}× the cycles per second, acquire p50 ${lat(redlock.acquireUs.p50)} against ${lat(token.acquireUs.p50)}.`);
  for (const [name, f] of [['token', token], ['redlock', redlock]] as const) {
    if (!f) continue;
    const perCycle = (cores: number) => count((cores * 1e6) / f.cyclesPerS);
    console.log(`faultline ${name}: lock driver, protected resource and history ${f.cores.driver.toFixed(2)} cores (${perCycle(f.cores.driver)} µs of CPU per cycle), lock clients ${f.cores.tool.toFixed(2)} cores (${perCycle(f.cores.tool)} µs per cycle), Redis ${perCycle(f.cores.redis)} µs per cycle; critical section (4 round trips to the resource) p50 ${lat(f.holdUs.p50)}, p99 ${lat(f.holdUs.p99)}.`);
  }
  console.log(`\nfaultline: acquisitions in the window per second; mean cycle = clients / cycles per second; acquire latency from the first attempt to the lock held, on the client's clock (the release's own latency is not measured).`);
  console.log('redis-benchmark: cycles/s = 1 / (1/SET rate + 1/EVAL rate), mean cycle = mean SET + mean EVAL latency, from its --csv output.');
  console.log(`redis-benchmark, CPU per cycle: ${count(((set.cores.tool / set.rps) + (release.cores.tool / release.rps)) * 1e6)} µs of its own, ${count(((set.cores.redis / set.rps) + (release.cores.redis / release.rps)) * 1e6)} µs of Redis.`);
  console.log('cores: faultline over its measured window, redis-benchmark over its run; load tool = this process (lock driver, protected resource, history) plus the lock clients, or redis-benchmark.');
}
if (failure !== undefined) {
  console.error(`locks-vs-redis-benchmark: ${failure instanceof Error ? failure.message : String(failure)}`);
  process.exitCode = 1;
}
