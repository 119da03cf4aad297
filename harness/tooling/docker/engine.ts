// A Docker engine for the docker runtime's tests and benchmarks: uses the one that answers, or
// starts Debian's dockerd in the background (own data root, published ports on 127.0.0.1 only)
// and later stops exactly that dockerd, by its PID.
//   node harness/tooling/docker/engine.ts start | stop | status
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, openSync, closeSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';

const DATA_ROOT = '/var/lib/faultline-docker';
const EXEC_ROOT = '/run/faultline-docker';
const START_TIMEOUT_MS = 60_000;
/** The PID of the dockerd this module started, for a later `stop` from another process. */
const stateFile = join(tmpdir(), 'faultline-dockerd.json');

/** Whether a Docker engine answers the CLI (`docker version`), within a few seconds. */
export function engineAnswers(): boolean {
  const r = spawnSync('docker', ['version', '--format', '{{.Server.Version}}'], { encoding: 'utf8', timeout: 5_000 });
  return r.status === 0 && r.stdout.trim() !== '';
}

/** Why no engine answers and none can be started here, or undefined when one can. */
export function engineUnavailableReason(): string | undefined {
  if (engineAnswers()) return undefined;
  if (spawnSync('sh', ['-c', 'command -v dockerd'], { encoding: 'utf8' }).status !== 0) return 'no Docker engine answers and dockerd is not installed (npm run setup installs docker.io)';
  if (process.getuid?.() !== 0) return 'no Docker engine answers and starting dockerd needs root';
  return undefined;
}

/** What `startEngine` did: `pid` only when it started a dockerd that `stopEngine` must stop. */
export interface EngineHandle {
  pid?: number;
  log?: string;
}

function isDockerd(pid: number): boolean {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').split('\0')[0]!.endsWith('dockerd');
  } catch {
    return false;
  }
}

/**
 * Makes sure an engine answers: returns at once when one does, else starts dockerd detached
 * and waits until it answers. Throws with the tail of dockerd's log when it does not.
 */
export async function startEngine(): Promise<EngineHandle> {
  if (engineAnswers()) return {};
  mkdirSync(DATA_ROOT, { recursive: true });
  const log = join(DATA_ROOT, 'dockerd.log');
  const fd = openSync(log, 'a');
  const child = spawn('dockerd', [
    '--data-root', DATA_ROOT,
    '--exec-root', EXEC_ROOT,
    '--pidfile', join(EXEC_ROOT, 'dockerd.pid'),
    '--host', 'unix:///var/run/docker.sock',
    // Published ports bind to loopback only; nothing here listens on other interfaces.
    '--ip', '127.0.0.1',
  ], { detached: true, stdio: ['ignore', fd, fd] });
  closeSync(fd);
  child.unref();
  const pid = child.pid!;
  writeFileSync(stateFile, JSON.stringify({ pid }));
  const until = Date.now() + START_TIMEOUT_MS;
  while (Date.now() < until) {
    if (engineAnswers()) return { pid, log };
    if (!isDockerd(pid)) break;
    await sleep(250);
  }
  await stopEngine({ pid });
  const tail = existsSync(log) ? readFileSync(log, 'utf8').split('\n').slice(-15).join('\n') : '';
  throw new Error(`dockerd did not answer within ${START_TIMEOUT_MS} ms; last lines of ${log}:\n${tail}`);
}

/** Stops the dockerd `startEngine` started (SIGTERM, then SIGKILL after 20 s); nothing otherwise. */
export async function stopEngine(handle: EngineHandle): Promise<void> {
  const { pid } = handle;
  if (pid === undefined || !isDockerd(pid)) return;
  process.kill(pid, 'SIGTERM');
  const until = Date.now() + 20_000;
  while (isDockerd(pid) && Date.now() < until) await sleep(100);
  if (isDockerd(pid)) process.kill(pid, 'SIGKILL');
  rmSync(stateFile, { force: true });
}

function startedPid(): number | undefined {
  try {
    return (JSON.parse(readFileSync(stateFile, 'utf8')) as { pid?: number }).pid;
  } catch {
    return undefined;
  }
}

if (import.meta.main) {
  const command = process.argv[2];
  if (command === 'start') {
    const h = await startEngine();
    process.stdout.write(h.pid ? `started dockerd (pid ${h.pid}, log ${h.log})\n` : 'a Docker engine already answers\n');
  } else if (command === 'stop') {
    const pid = startedPid();
    await stopEngine(pid === undefined ? {} : { pid });
    process.stdout.write(pid ? `stopped dockerd (pid ${pid})\n` : 'no dockerd started by faultline\n');
  } else if (command === 'status') {
    process.stdout.write(engineAnswers() ? 'a Docker engine answers\n' : `no Docker engine answers: ${engineUnavailableReason() ?? 'one can be started (node harness/tooling/docker/engine.ts start)'}\n`);
  } else {
    process.stderr.write('usage: node harness/tooling/docker/engine.ts start | stop | status\n');
    process.exitCode = 2;
  }
}
