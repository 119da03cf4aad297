import { spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../result/result.ts';
import { killGroup, killRunProcesses, procInfo, type RunRecord } from '../runtime/run-registry.ts';
import { runCli } from '../testing/cli.ts';
import { processesOfRun, processesWithCwdIn } from '../testing/processes.ts';

// A faultline killed outright (SIGKILL: a cancelled CI job, the OOM killer) runs no handler of
// its own; its watchdog must still take every service with it. Each run gets a TMPDIR of its
// own, so its temp dirs and its run record can be counted, and `doctor --clean` given the same
// TMPDIR sees only this file's runs.

const harness = fileURLToPath(new URL('../index.ts', import.meta.url));
let work: string;
const runIds: string[] = [];

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-killed-run-test-'));
});
afterAll(async () => {
  // Should an assertion fail, nothing of these runs outlives the file.
  for (const id of runIds) await killRunProcesses(id, 2);
  for (const pid of processesWithCwdIn(work)) killGroup(procInfo(pid)?.pgrp ?? pid);
  await rm(work, { recursive: true, force: true });
});

/** HAProxy, then nginx, each in front of two backends, with a link fault so Toxiproxy runs; `extra` faults added. */
async function lbScenario(name: string, extra: unknown[] = []): Promise<string> {
  const file = join(work, `${name}.ts`);
  await writeFile(file, `import { defineScenario, haproxy, http, nginx } from ${JSON.stringify(harness)};
export default defineScenario({
  name: ${JSON.stringify(name)},
  description: 'killed mid-run',
  designs: { haproxy: haproxy({ backends: 2 }), nginx: nginx({ backends: 2 }) },
  workload: http({ model: 'open', rate: 100, path: '/work?ms=1', timeout: '2s' }),
  warmup: '1s',
  duration: '8s',
  faults: ${JSON.stringify([{ name: 'slow', at: '1s', for: '2s', link: 'lb->backend-1', latency: { latency: 5 } }, ...extra])},
});\n`);
  return file;
}

function commandLine(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

/** Polls (every 50 ms, at most `ms`) until `done` holds; returns whether it did. */
async function within(ms: number, done: () => boolean): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; await sleep(50)) if (done()) return true;
  return done();
}

/**
 * Every process of a run but the CLI: tagged in its environment, or started in a temp dir of
 * the run's own TMPDIR (nginx writes its title over its environment).
 */
function processesOf(runId: string, tmp: string, cli?: number): number[] {
  return [...new Set([...processesOfRun(runId), ...processesWithCwdIn(tmp)])].filter((p) => p !== cli).sort((a, b) => a - b);
}

const ownDirs = (tmp: string, runId: string) => readdirSync(tmp).filter((d) => d.startsWith(`faultline-${runId}-`));

async function newRun(tag: string): Promise<{ runId: string; tmp: string }> {
  const runId = `${tag}${process.pid}`;
  runIds.push(runId);
  const tmp = join(work, `tmp-${tag}`);
  await mkdir(tmp);
  return { runId, tmp };
}

/** SIGKILLs the CLI; then nothing of its run may be alive 3 s later, and after doctor --clean none of its temp dirs or its record is left. */
async function killAndCheck(run: ReturnType<typeof runCli>, runId: string, tmp: string): Promise<void> {
  const record = JSON.parse(await readFile(join(tmp, 'faultline-runs', `${runId}.json`), 'utf8')) as RunRecord;
  expect(record.pid).toBe(run.child.pid);
  expect(procInfo(record.watchdogPid!)).toBeDefined();
  run.child.kill('SIGKILL');
  expect((await run.done).code).toBe(null);
  // A bound, not a goal: the watchdog needs a scan of /proc and the signals.
  const gone = await within(3000, () => processesOf(runId, tmp).length === 0);
  expect(gone ? [] : processesOf(runId, tmp).map(commandLine)).toEqual([]);
  // The watchdog removed the run's temp dirs and its record, and exited.
  expect(await within(3000, () => ownDirs(tmp, runId).length === 0 && !existsSync(join(tmp, 'faultline-runs')) && procInfo(record.watchdogPid!) === undefined)).toBe(true);
  const doctor = await runCli(['doctor', '--clean'], { env: { TMPDIR: tmp } }).done;
  expect(doctor.stdout).toMatch(/clean: stopped 0 process\(es\) and removed 0 temp dir\(s\) of 0 run\(s\)/);
  expect(ownDirs(tmp, runId)).toEqual([]);
  expect(existsSync(join(tmp, 'faultline-runs'))).toBe(false);
  expect(procInfo(record.watchdogPid!)).toBeUndefined();
}

describe('a faultline run killed with SIGKILL', () => {
  it('leaves no HAProxy, nginx, Toxiproxy or backend process and no temp dir (killed during the second design)', async () => {
    const { runId, tmp } = await newRun('kil');
    const run = runCli(['run', await lbScenario('kill-mid-run'), '--out', join(work, 'out-kill')], { env: { FAULTLINE_RUN_ID: runId, TMPDIR: tmp } });
    await run.waitFor(/nginx +2\/8s/, 60_000);
    // Toxiproxy, nginx (master and workers) and two backends: the CLI itself carries the run id
    // only because the test put it in its environment.
    const alive = processesOf(runId, tmp, run.child.pid).map(commandLine);
    expect(alive.some((c) => /toxiproxy-server/.test(c))).toBe(true);
    expect(alive.some((c) => /(^|\/)nginx\b/.test(c))).toBe(true);
    expect(alive.filter((c) => /http-service-server/.test(c))).toHaveLength(2);
    expect(ownDirs(tmp, runId).length).toBeGreaterThanOrEqual(4);
    await killAndCheck(run, runId, tmp);
  }, 120_000);

  it('also when a service is frozen by a pause fault at that moment (killed during the first design, HAProxy frozen)', async () => {
    const { runId, tmp } = await newRun('kfz');
    const file = await lbScenario('kill-frozen', [{ name: 'freeze', at: '1s', service: 'lb', pause: true, designs: ['haproxy'] }]);
    const run = runCli(['run', file, '--out', join(work, 'out-frozen')], { env: { FAULTLINE_RUN_ID: runId, TMPDIR: tmp } });
    await run.waitFor(/haproxy +\d+\/8s .*fault: .*freeze/, 60_000);
    const haproxy = processesOf(runId, tmp).filter((p) => /(^|\/)haproxy /.test(commandLine(p)));
    expect(haproxy.length).toBeGreaterThan(0);
    expect(haproxy.map((p) => procInfo(p)?.state)).toEqual(haproxy.map(() => 'T'));
    await killAndCheck(run, runId, tmp);
  }, 120_000);
});

describe('faultline doctor --clean', () => {
  it('leaves a run that is still going alone: it finishes with exit 0, its processes untouched; killed runs beside it are cleaned', async () => {
    const { runId, tmp } = await newRun('dlv');
    // What a killed run left: a record naming a process that has exited, and a temp dir. One
    // killed before the live run starts (its start sweeps it), one while it runs (doctor does).
    const plantKilledRun = async (dead: string) => {
      const exited = spawnSync(process.execPath, ['-e', 'console.log(process.pid)'], { encoding: 'utf8' });
      await mkdir(join(tmp, 'faultline-runs'), { recursive: true });
      await writeFile(join(tmp, 'faultline-runs', `${dead}.json`), JSON.stringify({ runId: dead, pid: Number(exited.stdout.trim()), runtime: 'local', startedAt: new Date().toISOString() }));
      await mkdir(join(tmp, `faultline-${dead}-service-x`));
    };
    const [before, during] = [`dlb${process.pid}`, `dld${process.pid}`];
    await plantKilledRun(before);
    const file = join(work, 'alive.ts');
    await writeFile(file, `import { defineScenario, http, httpService } from ${JSON.stringify(harness)};
export default defineScenario({
  name: 'alive', description: 'runs while doctor cleans',
  designs: { single: httpService() },
  workload: http({ model: 'open', rate: 100, path: '/work?ms=1' }),
  warmup: '1s', duration: '6s', sla: ['errors < 1%'],
});\n`);
    const out = join(work, 'out-alive');
    const run = runCli(['run', file, '--out', out], { env: { FAULTLINE_RUN_ID: runId, TMPDIR: tmp } });
    await run.waitFor(/single +2\/6s/, 60_000);
    expect(existsSync(join(tmp, `faultline-${before}-service-x`))).toBe(false);
    expect(existsSync(join(tmp, 'faultline-runs', `${before}.json`))).toBe(false);
    await plantKilledRun(during);
    const services = processesOf(runId, tmp, run.child.pid).map((pid) => ({ pid, start: procInfo(pid)?.start }));
    const dirs = ownDirs(tmp, runId);
    expect(services.length).toBeGreaterThan(0);
    expect(dirs.length).toBeGreaterThan(0);

    const doctor = await runCli(['doctor', '--clean'], { env: { TMPDIR: tmp } }).done;
    expect(doctor.stdout).toMatch(/clean: stopped 0 process\(es\) and removed 1 temp dir\(s\) of 1 run\(s\) whose faultline process is gone/);
    expect(doctor.stdout).toMatch(new RegExp(`clean: left alone 1 run\\(s\\) still going: ${runId} \\(pid ${run.child.pid}\\)`));
    expect(existsSync(join(tmp, `faultline-${during}-service-x`))).toBe(false);
    expect(existsSync(join(tmp, 'faultline-runs', `${during}.json`))).toBe(false);
    // Same processes (pid and start time), none stopped, and the run's dirs still there.
    expect(services.map(({ pid }) => ({ pid, start: procInfo(pid)?.start }))).toEqual(services);
    expect(services.map(({ pid }) => procInfo(pid)?.state).filter((s) => s === 'T' || s === 'Z')).toEqual([]);
    expect(ownDirs(tmp, runId)).toEqual(dirs);

    const { code, stderr } = await run.done;
    expect(stderr).toBe('faultline: removed 1 temp dir(s) of 1 earlier run(s) that were killed\n');
    expect(code).toBe(0);
    const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(result.complete).toBe(true);
    expect(result.designs[0]!.totals.errors).toBe(0);
    expect(result.designs[0]!.totals.ok).toBeGreaterThan(0);
    expect(processesOf(runId, tmp)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
  }, 120_000);
});

describe('SIGHUP', () => {
  it('stops the run in order like SIGTERM: exit 130, a partial result, nothing left', async () => {
    const { runId, tmp } = await newRun('hup');
    const file = join(work, 'hup.ts');
    await writeFile(file, `import { defineScenario, http, httpService } from ${JSON.stringify(harness)};
export default defineScenario({
  name: 'hup', description: 'hung up',
  designs: { single: httpService() },
  workload: http({ model: 'open', rate: 100, path: '/work?ms=1' }),
  warmup: '0s', duration: '60s',
});\n`);
    const out = join(work, 'out-hup');
    const run = runCli(['run', file, '--out', out], { env: { FAULTLINE_RUN_ID: runId, TMPDIR: tmp } });
    await run.waitFor(/single +2\/60s/, 60_000);
    run.child.kill('SIGHUP');
    const { code, stderr } = await run.done;
    expect(code).toBe(130);
    expect(stderr).toMatch(/SIGHUP: stopping every service/);
    expect(processesOf(runId, tmp)).toEqual([]);
    expect(readdirSync(tmp)).toEqual([]);
    const partial = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(partial.complete).toBe(false);
    expect(partial.designs[0]?.status).toBe('interrupted');
  }, 120_000);
});
