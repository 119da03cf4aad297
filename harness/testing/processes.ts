import { readdirSync, readFileSync, readlinkSync } from 'node:fs';

/** PIDs of live processes whose environment carries `FAULTLINE_RUN_ID=<runId>` (Linux /proc). */
export function processesOfRun(runId: string): number[] {
  const needle = `FAULTLINE_RUN_ID=${runId}\0`;
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const env = readFileSync(`/proc/${entry}/environ`, 'latin1');
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      // A zombie has exited; only its parent's bookkeeping is left.
      if (env.includes(needle) && !/\) Z /.test(stat)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}

/**
 * PIDs of live processes whose working directory is inside `dir` (Linux /proc). The local
 * runtime starts each service in its temp dir, so with a TMPDIR of its own a run's services are
 * found this way too, nginx included (it writes its process title over its environment, where
 * `processesOfRun` looks).
 */
export function processesWithCwdIn(dir: string): number[] {
  const pids: number[] = [];
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      const cwd = readlinkSync(`/proc/${entry}/cwd`);
      const stat = readFileSync(`/proc/${entry}/stat`, 'latin1');
      if (cwd.startsWith(`${dir}/`) && !/\) Z /.test(stat)) pids.push(Number(entry));
    } catch {
      // The process ended while we looked.
    }
  }
  return pids;
}
