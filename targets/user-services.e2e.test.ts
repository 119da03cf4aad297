import { existsSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import { createServer as createTcpServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { DesignResult, FaultRecord, RunResult } from '../harness/result/result.ts';
import { LocalRuntime } from '../harness/runtime/local-runtime.ts';
import { percentileOfSeconds } from '../harness/testing/fault-scenario.ts';
import { runCli } from '../harness/testing/cli.ts';
import { processesOfRun } from '../harness/testing/processes.ts';
import { commandSpec } from './command/command.ts';

const harness = fileURLToPath(new URL('../harness/index.ts', import.meta.url));
/** The node that runs the tests runs the user's server too, whatever `node` is first on PATH. */
const node = JSON.stringify(process.execPath);

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-user-services-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/**
 * A user's server: answers every path with 200 (`/health` included) on `PORT`, with its pid in
 * `x-served-by` (which the load tallies), notes that pid in
 * `pids.txt` beside it (in its working directory), and on a second start waits `SECOND_START_DELAY_MS`
 * before it listens, then logs `listening on <port>`.
 */
const serverSource = `const http = require('node:http');
const fs = require('node:fs');
const second = fs.existsSync('pids.txt');
fs.appendFileSync('pids.txt', process.pid + '\\n');
const server = http.createServer((req, res) => {
  res.setHeader('x-served-by', String(process.pid));
  res.end(req.url === '/health' ? 'ok' : 'hello');
});
setTimeout(() => server.listen(Number(process.env.PORT), process.env.HOST, () => console.log('listening on ' + process.env.PORT)), second ? Number(process.env.SECOND_START_DELAY_MS ?? 0) : 0);
`;

/** A folder with the server in it, as a user's project would have. */
async function project(name: string): Promise<string> {
  const dir = join(work, name);
  await mkdir(dir);
  await writeFile(join(dir, 'server.js'), serverSource);
  return dir;
}

async function scenarioFile(dir: string, body: { name: string; designs: string; duration: string; faults?: unknown[]; sla?: unknown[] }): Promise<string> {
  const file = join(dir, `${body.name}.ts`);
  await writeFile(file, `import { command, defineScenario, external, haproxy, http, nginx } from ${JSON.stringify(harness)};
export default defineScenario({
  name: ${JSON.stringify(body.name)},
  description: 'a service of the user as a design',
  designs: ${body.designs},
  workload: http({ model: 'open', rate: 100, path: '/', timeout: '1s' }),
  warmup: '1s',
  duration: ${JSON.stringify(body.duration)},
  faults: ${JSON.stringify(body.faults ?? [])},
  sla: ${JSON.stringify(body.sla ?? [])},
});\n`);
  return file;
}

async function resultOf(out: string): Promise<RunResult> {
  return JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
}

/** The pids the server noted, one per start. */
async function pidsIn(dir: string): Promise<number[]> {
  return (await readFile(join(dir, 'pids.txt'), 'utf8')).trim().split('\n').map(Number);
}

/** Whether a process runs (a zombie has exited: only its parent's bookkeeping is left). */
function alive(pid: number): boolean {
  try {
    return !/\) Z /.test(readFileSync(`/proc/${pid}/stat`, 'latin1'));
  } catch {
    return false;
  }
}

/**
 * The processes of `pids` still alive after up to `withinMs`: a group that got SIGKILL may take a
 * moment to be gone from the process table, and a grandchild has no parent that waits for it.
 */
async function survivors(pids: number[], withinMs = 3000): Promise<number[]> {
  const until = Date.now() + withinMs;
  while (pids.some(alive) && Date.now() < until) await sleep(20);
  return pids.filter(alive);
}

/** Seconds of the window that lie wholly inside [from, to) ms. */
function secondsWithin(from: number, to: number): number[] {
  const out: number[] = [];
  for (let s = Math.ceil(from / 1000); (s + 1) * 1000 <= to; s++) out.push(s);
  return out;
}

describe('command: the user\'s server started by faultline, killed and started again', () => {
  const runId = `cmd${process.pid}`;
  let dir: string;
  let result: RunResult;
  let design: DesignResult;
  let code: number | null;
  let stderr: string;
  let kill: FaultRecord;

  beforeAll(async () => {
    dir = await project('cmd');
    const file = await scenarioFile(dir, {
      name: 'own-app',
      designs: `{ mine: command({ run: ${JSON.stringify(`${node} server.js`)}, ready: { http: '/health' } }) }`,
      duration: '6s',
      faults: [{ name: 'crash', at: '2s', for: '2s', service: 'app', kill: 'SIGKILL' }],
      sla: [{ during: 'crash', check: 'errors > 0%' }],
    });
    // The CLI runs in the project's folder: the command's default working directory.
    const run = runCli(['run', file, '--out', join(dir, 'out')], { cwd: dir, env: { FAULTLINE_RUN_ID: runId } });
    ({ code, stderr } = await run.done);
    result = await resultOf(join(dir, 'out'));
    design = result.designs[0]!;
    kill = design.faults.find((f) => f.name === 'crash')!;
  });

  it('runs the design through to the end, the server answering before and after the kill', () => {
    expect(code, stderr).toBe(0);
    expect(design.status).toBe('completed');
    expect(design.totals.ok).toBeGreaterThan(0);
    expect(design.services).toEqual([{ name: 'app', target: 'command', program: 'command', version: `${node} server.js`, endpoints: { http: expect.stringMatching(/^http:\/\/127\.0\.0\.1:\d+$/) } }]);
    const before = design.series.slice(0, 2);
    expect(before.every((s) => s.ok > 0 && s.errors === 0)).toBe(true);
    // Seconds that begin once the restarted server was ready.
    const after = design.series.filter((s) => s.second * 1000 >= kill.removedAtMs!);
    expect(after.length).toBeGreaterThan(0);
    expect(after.every((s) => s.ok > 0 && s.errors === 0)).toBe(true);
  });

  it('applies the kill and starts the server again when its window ends, with errors only in between', () => {
    expect(kill.error).toBeUndefined();
    expect(kill.appliedAtMs).toBeDefined();
    expect(kill.removedAtMs).toBeDefined();
    const inside = secondsWithin(kill.appliedAtMs!, kill.removedAtMs!);
    expect(inside.length).toBeGreaterThan(0);
    for (const s of inside) expect(design.series[s]!.errors, `second ${s}`).toBeGreaterThan(0);
    expect(design.series[inside[0]!]!.ok).toBe(0);
    expect(design.totals.errorsByKind.refused).toBeGreaterThan(0);
    expect(design.sla.find((v) => v.line === 'during crash: errors > 0%')?.pass).toBe(true);
  });

  it('started the server exactly twice, in the folder faultline ran in, and left neither process alive', async () => {
    const pids = await pidsIn(dir);
    expect(pids).toHaveLength(2);
    // Both answered in the window: the first before the kill, the second after it.
    expect(Object.keys(design.tallies.served_by ?? {}).map(Number).sort()).toEqual([...pids].sort());
    expect(await survivors(pids)).toEqual([]);
    expect(processesOfRun(runId)).toEqual([]);
  });
});

describe('command as the backends of HAProxy and of nginx, compared in one scenario', () => {
  const runId = `cmdlb${process.pid}`;
  let dir: string;
  let result: RunResult;
  let code: number | null;
  let stderr: string;

  beforeAll(async () => {
    dir = await project('cmd-lb');
    const backend = `command({ run: ${JSON.stringify(`${node} server.js`)}, ready: { http: '/health' } })`;
    const file = await scenarioFile(dir, { name: 'own-app-lb', designs: `{ haproxy: haproxy({ backends: 2, backend: ${backend} }), nginx: nginx({ backends: 2, backend: ${backend} }) }`, duration: '3s' });
    const run = runCli(['run', file, '--out', join(dir, 'out')], { cwd: dir, env: { FAULTLINE_RUN_ID: runId } });
    ({ code, stderr } = await run.done);
    result = await resultOf(join(dir, 'out'));
  });

  it('runs two copies of the command behind each balancer, both answering, and leaves none of the four alive', async () => {
    expect(code, stderr).toBe(0);
    const pids = await pidsIn(dir);
    expect(pids).toHaveLength(4);
    for (const [i, d] of result.designs.entries()) {
      expect(d.status).toBe('completed');
      expect(d.services.map((s) => [s.name, s.target])).toEqual([['backend-1', 'command'], ['backend-2', 'command'], ['lb', d.name]]);
      expect(d.totals.errors).toBe(0);
      // Designs run one after the other: each balancer's two backends are the next two starts.
      expect(Object.keys(d.tallies.served_by ?? {}).map(Number).sort()).toEqual(pids.slice(2 * i, 2 * i + 2).sort());
    }
    expect(await survivors(pids)).toEqual([]);
    expect(processesOfRun(runId)).toEqual([]);
  });
});

describe('external: a server the user runs, faults on the link to it', () => {
  const runId = `ext${process.pid}`;
  let server: Server;
  let port: number;
  let served = 0;
  let result: RunResult;
  let design: DesignResult;
  let code: number | null;
  let stderr: string;

  beforeAll(async () => {
    server = createServer((req, res) => {
      served++;
      res.end(req.url === '/health' ? 'ok' : 'hello');
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as { port: number }).port;
    const file = await scenarioFile(work, {
      name: 'ext-app',
      designs: `{ mine: external({ url: 'http://127.0.0.1:${port}', health: '/health' }) }`,
      duration: '5s',
      faults: [{ name: 'slow', at: '2s', for: '2s', link: 'client->app', latency: { latency: 100 } }],
      sla: [{ before: 'slow', check: 'p50 < 90ms' }, { during: 'slow', check: 'p50 >= 90ms' }],
    });
    const run = runCli(['run', file, '--out', join(work, 'ext-out')], { env: { FAULTLINE_RUN_ID: runId } });
    ({ code, stderr } = await run.done);
    result = await resultOf(join(work, 'ext-out'));
    design = result.designs[0]!;
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => server.close(() => resolve()));
  });

  it('records the service as external at its url, reached through the proxy on client->app', () => {
    expect(code, stderr).toBe(0);
    expect(design.services).toEqual([{ name: 'app', target: 'external', program: 'external', version: `http://127.0.0.1:${port}`, endpoints: { http: `http://127.0.0.1:${port}` } }]);
    expect(design.links).toEqual([expect.objectContaining({ name: 'client->app', from: 'client', to: 'app', upstream: `127.0.0.1:${port}` })]);
    expect(design.entry?.endpoints).toEqual([`http://${design.links[0]!.listen}`]);
    expect(served).toBeGreaterThanOrEqual(design.totals.ok);
    expect(design.totals.errors).toBe(0);
  });

  it('shows the 100 ms of link latency in p50 during the fault and not before', () => {
    const slow = design.faults.find((f) => f.name === 'slow')!;
    expect(slow.error).toBeUndefined();
    const before = percentileOfSeconds(design.series, secondsWithin(0, slow.appliedAtMs!), 50);
    const during = percentileOfSeconds(design.series, secondsWithin(slow.appliedAtMs!, slow.removedAtMs!), 50);
    expect(before).toBeLessThan(90_000);
    expect(during).toBeGreaterThanOrEqual(90_000);
    expect(design.sla.map((v) => [v.line, v.pass])).toEqual([['before slow: p50 < 90ms', true], ['during slow: p50 >= 90ms', true]]);
  });

  it('leaves the user\'s server running and nothing of its own', async () => {
    expect((await fetch(`http://127.0.0.1:${port}/health`)).status).toBe(200);
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('stops with exit 3 and says so when nothing answers at the url', async () => {
    const closed = await freeLoopbackPort();
    const file = await scenarioFile(work, { name: 'ext-down', designs: `{ mine: external({ url: 'http://127.0.0.1:${closed}' }) }`, duration: '2s' });
    const { code, stderr } = await runCli(['run', file, '--out', join(work, 'ext-down-out')]).done;
    expect(code).toBe(3);
    expect(stderr).toContain(`service 'app' (external) does not answer at 127.0.0.1:${closed}: nothing passed TCP connect to port (main) within 5000 ms`);
    expect(stderr).toContain('faultline does not start an external service: start it before the run, or correct its url');
  });
});

describe('designs of the user\'s services that are refused before anything starts', () => {
  it('refuses a url off this machine and a process fault on an external service, with exit 2 and each field named', async () => {
    const file = await scenarioFile(work, {
      name: 'refused',
      designs: "{ remote: external({ url: 'http://10.1.2.3:8080' }), local: external({ url: 'http://127.0.0.1:8080' }) }",
      duration: '5s',
      faults: [{ name: 'crash', at: '1s', service: 'app', kill: 'SIGKILL' }],
    });
    const out = join(work, 'refused-out');
    const { code, stderr } = await runCli(['run', file, '--out', out]).done;
    expect(code).toBe(2);
    expect(stderr).toMatch(/has 2 problems; nothing was started/);
    expect(stderr).toContain("designs.remote.options.url: host '10.1.2.3' is not this machine's loopback: faultline drives load only at 127.0.0.1, ::1 or localhost, or at services it started itself");
    expect(stderr).toContain("faults[0].service: service 'app' of design 'local' (external) was not started by faultline, so a kill fault cannot reach it; put a fault on its link 'client->app' instead");
    expect(existsSync(out)).toBe(false);
  });

  it('refuses a command design in the docker runtime, naming the design and the runtime to use', async () => {
    const { DockerRuntime } = await import('../harness/runtime/docker-runtime.ts');
    const runtime = new DockerRuntime({ runId: `dck${process.pid}`, design: 'mine' });
    await expect(runtime.start(commandSpec({ run: 'true' }))).rejects.toMatchObject({
      code: 'setup',
      message: "design 'mine': service 'app' (command) has no container form, so it cannot run in the docker runtime",
      hint: 'use --runtime local',
    });
  });
});

/** A loopback port nothing listens on (it was free a moment ago). */
async function freeLoopbackPort(): Promise<number> {
  const srv = createTcpServer();
  await new Promise<void>((resolve) => srv.listen(0, '127.0.0.1', resolve));
  const { port } = srv.address() as { port: number };
  await new Promise<void>((resolve) => srv.close(() => resolve()));
  return port;
}

describe('command services in the local runtime', () => {
  const runId = `cmdrt${process.pid}`;
  let runtime: LocalRuntime;
  beforeAll(() => {
    runtime = new LocalRuntime({ runId });
  });
  afterAll(async () => {
    await runtime.stopAll();
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('refuses a fixed port something listens on, before it starts anything', async () => {
    const holder = createTcpServer();
    await new Promise<void>((resolve) => holder.listen(0, '127.0.0.1', resolve));
    const { port } = holder.address() as { port: number };
    try {
      const dir = await project('fixed');
      await expect(runtime.start(commandSpec({ run: `${node} server.js`, port, cwd: dir }))).rejects.toMatchObject({
        code: 'target-start',
        message: `service 'app' (command) must listen on port ${port} (http), which is not free (EADDRINUSE)`,
      });
      expect(existsSync(join(dir, 'pids.txt'))).toBe(false);
    } finally {
      await new Promise<void>((resolve) => holder.close(() => resolve()));
    }
  });

  it('on a restart, waits for the log line of the new start, not the one already in its log', async () => {
    const dir = await project('log-ready');
    const svc = await runtime.start(commandSpec({ run: `${node} server.js`, cwd: dir, ready: { log: 'listening on' }, env: { SECOND_START_DELAY_MS: '500' } }));
    expect((await fetch(`${svc.url()}/`)).status).toBe(200);
    await svc.restart();
    // Ready means listening: the second start logs its line only once it listens, 500 ms in.
    expect((await fetch(`${svc.url()}/`)).status).toBe(200);
    expect((await svc.logTail()).match(/listening on/g)).toHaveLength(2);
    await svc.stop();
    const pids = await pidsIn(dir);
    expect(pids).toHaveLength(2);
    expect(await survivors(pids)).toEqual([]);
  });
});
