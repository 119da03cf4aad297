import { setTimeout as sleep } from 'node:timers/promises';
import { FaultlineError } from '../errors.ts';
import { forgetRun, procInfo, processAlive, readRuns, recordRun, runAlive, RUN_ID_PATTERN, sweepDeadRuns } from '../runtime/run-registry.ts';
import { startWatchdog } from '../runtime/watchdog.ts';

/**
 * A run id given in `FAULTLINE_RUN_ID` names temp dirs, labels and a record file, and no other
 * live run may have it (their watchdogs would take each other's services): check it before
 * anything is created. An earlier run of the id that was killed a moment ago may still have its
 * watchdog cleaning up, which would take this run's first services for its own: wait for it
 * (at most 5 s), then refuse.
 */
export async function checkRunId(runId: string): Promise<void> {
  if (!RUN_ID_PATTERN.test(runId)) {
    throw new FaultlineError('invalid-argument', `FAULTLINE_RUN_ID '${runId}' is not a run id`, { hint: 'use up to 64 letters, digits, ., _ and -, starting with a letter or digit; or leave it unset for a random one' });
  }
  const other = readRuns().find((r) => r.runId === runId && r.pid !== process.pid && runAlive(r));
  if (other) {
    throw new FaultlineError('invalid-argument', `run id '${runId}' belongs to a faultline run still going (pid ${other.pid})`, { hint: 'give each concurrent run its own FAULTLINE_RUN_ID, or leave it unset' });
  }
  const cleaning = () => readRuns().some((r) => r.runId === runId && r.watchdogPid !== undefined && processAlive(r.watchdogPid));
  for (let i = 0; i < 50 && cleaning(); i++) await sleep(100);
  // Going on would let that watchdog take this run's services and temp dirs for its own.
  if (cleaning()) {
    throw new FaultlineError('invalid-argument', `run id '${runId}' belongs to a killed faultline run whose clean-up is still going after 5 s`, { hint: 'wait for it, or give this run another FAULTLINE_RUN_ID (or leave it unset)' });
  }
}

/**
 * What `faultline run` does before it starts anything: removes the temp dirs of earlier runs
 * whose process is gone, records this run (so `faultline doctor --clean` leaves it alone) and
 * starts its watchdog (so nothing of it outlives a SIGKILL). `finish` ends both once every
 * service is stopped.
 */
export function guardRun(runId: string, runtime: 'local' | 'docker'): { finish(): void } {
  const sweep = sweepDeadRuns();
  if (sweep.dirs > 0) process.stderr.write(`faultline: removed ${sweep.dirs} temp dir(s) of ${sweep.deadRuns.length} earlier run(s) that were killed\n`);
  for (const s of sweep.stillRunning) {
    process.stderr.write(`faultline: earlier run ${s.runId} was killed and ${s.processes} of its process(es) or container(s) still run; faultline doctor --clean stops them\n`);
  }
  const watchdog = startWatchdog(runId);
  recordRun({ runId, pid: process.pid, pidStart: procInfo(process.pid)?.start, watchdogPid: watchdog.pid, runtime, startedAt: new Date().toISOString() });
  return {
    finish() {
      watchdog.finish();
      forgetRun(runId, process.pid);
    },
  };
}
