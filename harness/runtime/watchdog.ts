import { spawn, type ChildProcess } from 'node:child_process';
import { ownFile } from '../base/own-file.ts';
import { RUN_ID_ENV, SERVICE_ENV } from './run-registry.ts';

const script = ownFile('./watchdog-main.ts', import.meta.url);

/**
 * A small process that outlives faultline's own to clean up after it. A SIGKILL (a CI job
 * cancelled, the OOM killer) runs no handler, and Linux's parent-death signal (prctl
 * PR_SET_PDEATHSIG) cannot be set from Node for the services it spawns. So the watchdog, in a
 * session of its own (a kill of faultline's process group does not reach it), holds a pipe from
 * faultline, which tells it each process group it starts. When the pipe closes without a
 * `done` — faultline died, whatever the signal — it SIGCONTs and SIGKILLs those groups and
 * every process tagged with the run, removes the run's temp dirs and its record, and exits
 * (`watchdog-main.ts`). A normal end says `done` and the watchdog exits doing nothing.
 */
export class RunWatchdog {
  readonly pid: number;
  private readonly child: ChildProcess;
  private finished = false;

  private constructor(child: ChildProcess) {
    this.child = child;
    this.pid = child.pid!;
  }

  /** Starts the watchdog of run `runId`, owned by this process. */
  static start(runId: string): RunWatchdog {
    const env = { ...process.env };
    // The watchdog is not part of the run: nothing that looks for the run's processes finds it.
    delete env[RUN_ID_ENV];
    delete env[SERVICE_ENV];
    const child = spawn(process.execPath, [script, runId, String(process.pid)], { detached: true, stdio: ['pipe', 'ignore', 'ignore'], cwd: '/', env });
    if (child.pid === undefined) throw new Error('the watchdog process did not start');
    const w = new RunWatchdog(child);
    // A watchdog that is gone turns every later line into EPIPE: faultline carries on without it.
    child.stdin!.on('error', () => {});
    child.once('exit', (code, signal) => {
      if (!w.finished) process.stderr.write(`faultline: the run's watchdog (pid ${w.pid}) ended early (${signal ?? `code ${code}`}); if faultline is killed now, its services may outlive it\n`);
    });
    // Neither the process nor the pipe keeps faultline's event loop alive.
    child.unref();
    (child.stdin as unknown as { unref(): void }).unref();
    return w;
  }

  private send(line: string): void {
    if (!this.finished) this.child.stdin!.write(`${line}\n`);
  }

  /** A process group the run started (its leader's pid). */
  watch(pgid: number): void {
    this.send(`group ${pgid}`);
  }

  /** A group the run stopped itself. */
  release(pgid: number): void {
    this.send(`release ${pgid}`);
  }

  /** The run ended normally: the watchdog exits without doing anything. */
  finish(): void {
    if (this.finished) return;
    this.child.stdin!.end('done\n');
    this.finished = true;
  }
}

let current: RunWatchdog | undefined;

/** Starts the run's watchdog; the local runtime tells it each group from now on. */
export function startWatchdog(runId: string): RunWatchdog {
  current = RunWatchdog.start(runId);
  return current;
}

/** Tells the current run's watchdog, if any, about a process group just started. */
export function watchGroup(pgid: number): void {
  current?.watch(pgid);
}

/** Tells the current run's watchdog, if any, that a process group was stopped. */
export function releaseGroup(pgid: number): void {
  current?.release(pgid);
}
