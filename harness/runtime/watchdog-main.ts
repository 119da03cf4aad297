// The watchdog of one run (see watchdog.ts): `node watchdog-main.ts <runId> <faultline pid>`,
// reading lines from faultline on stdin: `group <pgid>`, `release <pgid>`, `done`. It imports
// only Node and run-registry.ts, so it starts in a few tens of milliseconds.
import { forgetRun, killGroup, killRunProcesses, procInfo, readRuns, removeRunTempDirs } from './run-registry.ts';

const [runId, ownerText] = process.argv.slice(2);
const owner = Number(ownerText);
if (runId === undefined || !Number.isInteger(owner)) {
  process.stderr.write('usage: watchdog-main.ts <runId> <faultline pid>\n');
  process.exit(2);
}

/** Groups the run started, each with its leader's start time (undefined when it had gone by the time the line was read). */
const groups = new Map<number, number | undefined>();

function handle(line: string): void {
  const [verb, arg] = line.split(' ');
  const pgid = Number(arg);
  if (verb === 'done') process.exit(0);
  if (!Number.isInteger(pgid) || pgid <= 1) return;
  if (verb === 'group') groups.set(pgid, procInfo(pgid)?.start);
  else if (verb === 'release') groups.delete(pgid);
}

async function cleanUp(): Promise<void> {
  for (const [pgid, start] of groups) {
    // A leader with another start time is a new process that took the pid: not the run's. A
    // leader that is gone is fine: its pid cannot be reused while its group has members.
    const leader = procInfo(pgid);
    if (leader && start !== undefined && leader.start !== start) continue;
    killGroup(pgid);
  }
  // Also what the lines never named: a service spawned just before faultline died.
  await killRunProcesses(runId!);
  const runs = readRuns();
  removeRunTempDirs(runId!, runs.map((r) => r.runId));
  // A docker run's containers are for `faultline doctor --clean`, which finds them by the record.
  if (runs.find((r) => r.runId === runId)?.runtime !== 'docker') forgetRun(runId!, owner);
}

let pending = '';
let ending = false;
function end(): void {
  if (ending) return;
  ending = true;
  void cleanUp().finally(() => process.exit(0));
}

process.stdin.setEncoding('utf8');
process.stdin.on('data', (chunk: string) => {
  pending += chunk;
  for (let i = pending.indexOf('\n'); i >= 0; i = pending.indexOf('\n')) {
    handle(pending.slice(0, i));
    pending = pending.slice(i + 1);
  }
});
process.stdin.on('end', end);
process.stdin.on('error', end);
