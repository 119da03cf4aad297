import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { forgetRun, killRunProcesses, procInfo, processAlive, readRuns, recordRun, runsDir, runTempDirs, serviceProcesses, sweepDeadRuns } from './run-registry.ts';

// os.tmpdir() follows TMPDIR: each test gets a folder of its own for records and temp dirs.
let tmp: string;
let savedTmpdir: string | undefined;
const children: ChildProcess[] = [];

beforeEach(() => {
  savedTmpdir = process.env.TMPDIR;
  tmp = mkdtempSync(join(tmpdir(), 'faultline-registry-test-'));
  process.env.TMPDIR = tmp;
});
afterEach(() => {
  for (const c of children.splice(0)) {
    try {
      process.kill(-c.pid!, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  if (savedTmpdir === undefined) delete process.env.TMPDIR;
  else process.env.TMPDIR = savedTmpdir;
  rmSync(tmp, { recursive: true, force: true });
});

/** The pid of a process that has exited. */
function exitedPid(): number {
  return Number(spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' }).stdout.trim());
}

/** `sleep 60` in a session of its own (as the local runtime starts services), with the given env and cwd. */
function sleeper(env: Record<string, string>, cwd = tmp): ChildProcess {
  const c = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', env: { PATH: process.env.PATH!, ...env }, cwd });
  children.push(c);
  return c;
}

async function until(done: () => boolean): Promise<void> {
  for (let i = 0; i < 100 && !done(); i++) await new Promise((r) => setTimeout(r, 20));
}

describe('processes', () => {
  it('knows a live process by pid and start time, and an exited one as gone', () => {
    const me = procInfo(process.pid)!;
    expect(Number.isInteger(me.start) && me.start > 0).toBe(true);
    expect(processAlive(process.pid, me.start)).toBe(true);
    // The same pid with another start time is another process: the pid was reused.
    expect(processAlive(process.pid, me.start + 1)).toBe(false);
    expect(processAlive(exitedPid())).toBe(false);
  });

  it('finds a service by its two tags, never a process with only the run id (a shell that exported it)', async () => {
    const service = sleeper({ FAULTLINE_RUN_ID: 'r1', FAULTLINE_SERVICE: 'svc' });
    const shell = sleeper({ FAULTLINE_RUN_ID: 'r1' });
    await until(() => serviceProcesses('r1').length > 0);
    expect(serviceProcesses('r1').map((p) => p.pid)).toEqual([service.pid]);
    expect(serviceProcesses('r2')).toEqual([]);
    expect(procInfo(shell.pid!)).toBeDefined();
  });

  it("finds a process without tags that runs in a recorded run's temp dir, and kills it even when frozen", async () => {
    recordRun({ runId: 'r3', pid: exitedPid(), runtime: 'local', startedAt: '' });
    const dir = join(tmp, 'faultline-r3-nginx-abc');
    mkdirSync(dir);
    const untagged = sleeper({}, dir);
    await until(() => serviceProcesses('r3').length > 0);
    // Looked for among every run's (other runs on this machine may be going) and by its own.
    expect(serviceProcesses().filter((p) => p.runId === 'r3').map((p) => p.pid)).toEqual([untagged.pid]);
    expect(serviceProcesses('r3').map((p) => p.pid)).toEqual([untagged.pid]);
    process.kill(-untagged.pid!, 'SIGSTOP');
    await until(() => procInfo(untagged.pid!)?.state === 'T');
    const exited = new Promise((resolve) => untagged.once('exit', (_code, signal) => resolve(signal)));
    expect(await killRunProcesses('r3')).toBe(1);
    expect(await exited).toBe('SIGKILL');
  });
});

describe('run records', () => {
  it('records, lists and forgets a run; the folder goes with its last record', () => {
    recordRun({ runId: 'a', pid: process.pid, runtime: 'local', startedAt: 'now' });
    expect(readRuns()).toEqual([{ runId: 'a', pid: process.pid, runtime: 'local', startedAt: 'now' }]);
    // Another process's record of the id is not ours to remove.
    forgetRun('a', process.pid + 1);
    expect(readRuns()).toHaveLength(1);
    forgetRun('a', process.pid);
    expect(readRuns()).toEqual([]);
    expect(existsSync(runsDir())).toBe(false);
  });

  it("gives a run its temp dirs, not those of a run whose id extends its own", () => {
    for (const d of ['faultline-a-svc-1', 'faultline-a-b-svc-2', 'faultline-ab-svc-3', 'other']) mkdirSync(join(tmp, d));
    expect(runTempDirs('a', ['a', 'a-b']).map((d) => d.slice(tmp.length + 1))).toEqual(['faultline-a-svc-1']);
    expect(runTempDirs('a-b', ['a', 'a-b']).map((d) => d.slice(tmp.length + 1))).toEqual(['faultline-a-b-svc-2']);
  });

  it("sweeps the temp dirs and record of a run whose process is gone, and nothing of a live run or a run without a record", () => {
    recordRun({ runId: 'dead', pid: exitedPid(), runtime: 'local', startedAt: '' });
    recordRun({ runId: 'live', pid: process.pid, pidStart: procInfo(process.pid)!.start, runtime: 'local', startedAt: '' });
    for (const d of ['faultline-dead-svc-1', 'faultline-dead-lb-2', 'faultline-live-svc-3', 'faultline-norecord-svc-4']) mkdirSync(join(tmp, d));
    writeFileSync(join(tmp, 'faultline-dead-svc-1', 'svc.log'), 'x');
    const sweep = sweepDeadRuns();
    expect(sweep).toEqual({ deadRuns: ['dead'], dirs: 2, stillRunning: [] });
    expect(readdirSync(tmp).sort()).toEqual(['faultline-live-svc-3', 'faultline-norecord-svc-4', 'faultline-runs']);
    expect(readRuns().map((r) => r.runId)).toEqual(['live']);
  });
});
