import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, readFileSync, readlinkSync, renameSync, rmdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

/**
 * Which runs are alive, and what each left on this machine. A run of `faultline run` records
 * its own process under `os.tmpdir()/faultline-runs/<runId>.json` while it runs, so a later run
 * or `faultline doctor --clean` can tell the leftovers of a run whose process is gone (a
 * SIGKILL, a crashed machine) from those of a run still going, and never touches the latter.
 * A run's temp dirs are `os.tmpdir()/faultline-<runId>-*`; its local services start in one of
 * them, with `FAULTLINE_RUN_ID=<runId>` and `FAULTLINE_SERVICE=<name>` in their environment.
 * Linux (`/proc`).
 */

/** The environment variable naming a service's run: the local runtime sets it on what it spawns; `faultline run` takes its run id from it when set. */
export const RUN_ID_ENV = 'FAULTLINE_RUN_ID';
/**
 * Set only by the local runtime on what it spawns (and so inherited by their children): a
 * shell that exported `FAULTLINE_RUN_ID` itself is never taken for a service.
 */
export const SERVICE_ENV = 'FAULTLINE_SERVICE';

/** The docker runtime's label on every container and network of a run (its `RUN_LABEL`). */
export const DOCKER_RUN_LABEL = 'faultline.run';

/** A run id names files, dirs, labels and networks: letters, digits, `.`, `_`, `-`. */
export const RUN_ID_PATTERN = /^[A-Za-z0-9][A-Za-z0-9._-]{0,63}$/;

export interface RunRecord {
  runId: string;
  /** The process of `faultline run`. */
  pid: number;
  /** When it started (field 22 of `/proc/<pid>/stat`, clock ticks since boot), so a reused pid is not taken for it. */
  pidStart?: number;
  /** The run's watchdog, when one was started. */
  watchdogPid?: number;
  runtime: 'local' | 'docker';
  /** ISO time. */
  startedAt: string;
}

/** Where the records are: one JSON file per live (or killed) run. */
export function runsDir(): string {
  return join(tmpdir(), 'faultline-runs');
}

/** State (`R`, `S`, `T` stopped, `Z` zombie, …), process group, controlling terminal (0: none) and start time of a process; undefined when it is gone. */
export function procInfo(pid: number): { state: string; pgrp: number; tty: number; start: number } | undefined {
  let line: string;
  try {
    line = readFileSync(`/proc/${pid}/stat`, 'latin1');
  } catch {
    return undefined;
  }
  // The command name sits in parentheses and may hold anything: fields are counted from its last ')'.
  const f = line.slice(line.lastIndexOf(')') + 2).split(' ');
  // After the name, field n of proc(5) is at index n - 3: state 3, pgrp 5, tty_nr 7, starttime 22.
  return { state: f[0]!, pgrp: Number(f[2]), tty: Number(f[4]), start: Number(f[19]) };
}

const hasProc = existsSync('/proc/self/stat');

/** Whether the process that `pid` and `start` name is still running (a zombie is not). */
export function processAlive(pid: number, start?: number): boolean {
  const info = procInfo(pid);
  if (info) return info.state !== 'Z' && (start === undefined || info.start === start);
  if (hasProc) return false;
  try {
    process.kill(pid, 0);
    return true;
  } catch (err) {
    return (err as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/** Records a run as started by this process (written whole: to a temp file, then renamed). */
export function recordRun(record: RunRecord): void {
  const file = join(runsDir(), `${record.runId}.json`);
  const tmp = `${file}.${process.pid}.tmp`;
  for (let attempt = 1; ; attempt++) {
    try {
      mkdirSync(runsDir(), { recursive: true });
      writeFileSync(tmp, `${JSON.stringify(record)}\n`);
      renameSync(tmp, file);
      return;
    } catch (err) {
      // Another run removed the folder as its last record went, between our mkdir and write.
      if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || attempt === 3) throw err;
    }
  }
}

/** Removes a record, and the folder with its last one: a run leaves nothing in os.tmpdir(). */
function removeRecord(runId: string): void {
  rmSync(join(runsDir(), `${runId}.json`), { force: true });
  try {
    rmdirSync(runsDir());
  } catch {
    // Other runs' records are in it, or it is gone already.
  }
}

/** Removes a run's record, if it is still the one of the process `pid` (another run may have taken the id since). */
export function forgetRun(runId: string, pid: number): void {
  const record = readRuns().find((r) => r.runId === runId);
  if (record?.pid === pid) removeRecord(runId);
}

/** Every recorded run; unreadable records are skipped. */
export function readRuns(): RunRecord[] {
  let names: string[];
  try {
    names = readdirSync(runsDir());
  } catch {
    return [];
  }
  const runs: RunRecord[] = [];
  for (const name of names) {
    if (!name.endsWith('.json')) continue;
    try {
      const r = JSON.parse(readFileSync(join(runsDir(), name), 'utf8')) as RunRecord;
      if (typeof r.runId === 'string' && RUN_ID_PATTERN.test(r.runId) && Number.isInteger(r.pid)) runs.push(r);
    } catch {
      // Being written, or not ours.
    }
  }
  return runs;
}

/** Whether a recorded run's faultline process is still running. */
export function runAlive(record: RunRecord): boolean {
  return processAlive(record.pid, record.pidStart);
}

/** A live process that the local runtime started (or one of its children), with its run. */
export interface ServiceProcess {
  pid: number;
  pgrp: number;
  runId: string;
  state: string;
}

/**
 * Every live process on this machine that belongs to a local service of a run (of `runId`, or of
 * any run): one whose environment carries both the run id and the service tag, or — as nginx
 * writes its process title over its environment — one with no terminal whose working directory
 * is a temp dir of a recorded run (services start in theirs; a shell someone opened there to read
 * a log has a terminal). Only this user's processes can be read.
 */
export function serviceProcesses(runId?: string): ServiceProcess[] {
  const found: ServiceProcess[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  const known = [...new Set([...(runId === undefined ? [] : [runId]), ...readRuns().map((r) => r.runId)])];
  const dirPrefixes = known.map((id) => ({ id, prefix: join(tmpdir(), `faultline-${id}-`) })).sort((a, b) => b.prefix.length - a.prefix.length);
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    const pid = Number(entry);
    if (pid === process.pid) continue;
    let id: string | undefined;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      if (env.startsWith(`${SERVICE_ENV}=`) || env.includes(`\0${SERVICE_ENV}=`)) id = envValue(env, RUN_ID_ENV);
    } catch {
      continue;
    }
    const info = procInfo(pid);
    if (!info || info.state === 'Z') continue;
    if (id === undefined && info.tty === 0) {
      let cwd = '';
      try {
        cwd = readlinkSync(`/proc/${entry}/cwd`);
      } catch {
        // Not ours to read.
      }
      // The longest prefix first: run `a-b`'s dirs also start with `faultline-a-`.
      id = dirPrefixes.find((d) => cwd.startsWith(d.prefix))?.id;
    }
    if (id === undefined || (runId !== undefined && id !== runId)) continue;
    found.push({ pid, pgrp: info.pgrp, runId: id, state: info.state });
  }
  return found;
}

function envValue(env: string, name: string): string | undefined {
  for (const entry of env.split('\0')) if (entry.startsWith(`${name}=`)) return entry.slice(name.length + 1);
  return undefined;
}

function signal(target: number, sig: NodeJS.Signals): void {
  try {
    process.kill(target, sig);
  } catch {
    // Gone already.
  }
}

/**
 * Stops a process group now: SIGCONT first, so a group frozen by a `pause` fault (SIGSTOP) takes
 * its SIGKILL at once, then SIGKILL. Never this process's own group.
 */
export function killGroup(pgrp: number): void {
  if (pgrp <= 1 || pgrp === procInfo(process.pid)?.pgrp) return;
  signal(-pgrp, 'SIGCONT');
  signal(-pgrp, 'SIGKILL');
}

/**
 * Kills every process of a run found by its tags, and its group (a service's workers, and a
 * child that left the group still carries the tags). Looks again until none is left, at most
 * `rounds` times: a service spawned a moment before its faultline process died is in /proc
 * with its tags only once it has exec'd. Returns how many processes it found.
 */
export async function killRunProcesses(runId: string, rounds = 10): Promise<number> {
  let killed = 0;
  for (let round = 0; round < rounds; round++) {
    const found = serviceProcesses(runId);
    if (found.length === 0 && round > 0) break;
    for (const p of found) {
      killGroup(p.pgrp);
      signal(p.pid, 'SIGCONT');
      signal(p.pid, 'SIGKILL');
    }
    killed += found.length;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  return killed;
}

/**
 * The temp dirs of a run: `os.tmpdir()/faultline-<runId>-*`, less those of another known run
 * whose id starts with this one's and a dash (run `a` does not own `faultline-a-b-…` when `a-b`
 * is a run).
 */
export function runTempDirs(runId: string, knownRunIds: readonly string[] = []): string[] {
  const prefix = `faultline-${runId}-`;
  const longer = knownRunIds.filter((id) => id !== runId && id.startsWith(`${runId}-`)).map((id) => `faultline-${id}-`);
  let names: string[];
  try {
    names = readdirSync(tmpdir());
  } catch {
    return [];
  }
  return names.filter((n) => n.startsWith(prefix) && !longer.some((l) => n.startsWith(l))).map((n) => join(tmpdir(), n));
}

/** Removes a run's temp dirs; returns how many there were. */
export function removeRunTempDirs(runId: string, knownRunIds: readonly string[] = []): number {
  const dirs = runTempDirs(runId, knownRunIds);
  for (const dir of dirs) rmSync(dir, { recursive: true, force: true, maxRetries: 2 });
  return dirs.length;
}

/** What the sweep of dead runs found. */
export interface Sweep {
  /** Runs whose faultline process is gone. */
  deadRuns: string[];
  /** Temp dirs removed. */
  dirs: number;
  /** Dead runs whose services still run (left for `faultline doctor --clean`), with how many processes or containers. */
  stillRunning: { runId: string; processes: number }[];
}

/**
 * Removes the temp dirs of every recorded run whose faultline process is gone, and the record
 * when nothing of the run is left running. Runs still alive are not touched, nor are dirs of
 * runs that have no record (they may belong to a program using the runtimes directly).
 */
export function sweepDeadRuns(): Sweep {
  const runs = readRuns();
  const ids = runs.map((r) => r.runId);
  const sweep: Sweep = { deadRuns: [], dirs: 0, stillRunning: [] };
  for (const r of runs) {
    if (runAlive(r)) continue;
    sweep.deadRuns.push(r.runId);
    sweep.dirs += removeRunTempDirs(r.runId, ids);
    const left = serviceProcesses(r.runId).length + (r.runtime === 'docker' ? dockerContainersOf(r.runId).length : 0);
    if (left > 0) sweep.stillRunning.push({ runId: r.runId, processes: left });
    else removeRecord(r.runId);
  }
  return sweep;
}

/** Ids of a run's containers, running or not; none when no engine answers. */
export function dockerContainersOf(runId: string): string[] {
  const r = spawnSync('docker', ['ps', '-aq', '--filter', `label=${DOCKER_RUN_LABEL}=${runId}`], { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.split('\n').filter(Boolean) : [];
}
