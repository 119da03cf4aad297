import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { systemPrograms } from '../tooling/setup/system-programs.mjs';
import { findGoTool, goTools } from '../base/go-tools.mjs';
import { findNpmTool, npmTools } from '../base/npm-tools.mjs';
import { ExitCode } from '../errors.ts';
import { engineAnswers } from '../tooling/docker/engine.ts';
import { DOCKER_RUN_LABEL, forgetRun, killRunProcesses, readRuns, removeRunTempDirs, runAlive, runTempDirs, serviceProcesses } from '../runtime/run-registry.ts';

const NODE_MIN: [number, number] = [22, 19];

function programVersion(command: string, args: string[] | null): string | undefined {
  // A program that cannot be asked without starting it is only looked for.
  if (args === null) return existsSync(command) ? 'found' : undefined;
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error) return undefined;
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  return text || 'found';
}

type DockerLeft = { containers: string[]; networks: string[] };

/** Containers and networks labelled by faultline, by run. */
function dockerByRun(): Map<string, DockerLeft> {
  const byRun = new Map<string, DockerLeft>();
  const list = (args: string[], kind: keyof DockerLeft) => {
    const r = spawnSync('docker', [...args, '--no-trunc', '--filter', `label=${DOCKER_RUN_LABEL}`, '--format', `{{.ID}} {{.Label "${DOCKER_RUN_LABEL}"}}`], { encoding: 'utf8', timeout: 10_000 });
    if (r.status !== 0) return;
    for (const line of r.stdout.split('\n')) {
      const [id, run] = line.trim().split(' ');
      if (!id || !run) continue;
      if (!byRun.has(run)) byRun.set(run, { containers: [], networks: [] });
      byRun.get(run)![kind].push(id);
    }
  };
  list(['ps', '-a'], 'containers');
  list(['network', 'ls'], 'networks');
  return byRun;
}

/**
 * What killed runs left: their services' process groups (found by the run id and service tags
 * in their environment, or a working directory in the run's temp dirs), temp dirs, containers
 * and networks. A run is known killed when its
 * record (`os.tmpdir()/faultline-runs`) names a faultline process that is gone; a run still
 * going, or one without a record (a program using the runtimes directly), is never touched.
 */
async function leftoversOfRuns(engine: boolean, clean: boolean): Promise<void> {
  const runs = readRuns();
  const ids = runs.map((r) => r.runId);
  const dead = runs.filter((r) => !runAlive(r));
  const alive = runs.filter((r) => !dead.includes(r));
  const docker = engine ? dockerByRun() : new Map<string, DockerLeft>();
  const processes = serviceProcesses();
  let found = { processes: 0, dirs: 0, containers: 0, networks: 0 };
  for (const r of dead) {
    const d = docker.get(r.runId) ?? { containers: [], networks: [] };
    const left = { processes: processes.filter((p) => p.runId === r.runId).length, dirs: runTempDirs(r.runId, ids).length, containers: d.containers.length, networks: d.networks.length };
    if (clean) {
      left.processes = await killRunProcesses(r.runId);
      left.dirs = removeRunTempDirs(r.runId, ids);
      if (d.containers.length + d.networks.length > 0) (await import('../runtime/docker-runtime.ts')).removeNow(d.containers, d.networks);
      // Without an engine, a docker run's containers cannot be looked for: keep its record for later.
      if (r.runtime !== 'docker' || engine) forgetRun(r.runId, r.pid);
    }
    found = { processes: found.processes + left.processes, dirs: found.dirs + left.dirs, containers: found.containers + left.containers, networks: found.networks + left.networks };
  }
  if (clean) {
    process.stdout.write(`clean: stopped ${found.processes} process(es) and removed ${found.dirs} temp dir(s) of ${dead.length} run(s) whose faultline process is gone\n`);
    if (engine) process.stdout.write(`clean: removed ${found.containers} container(s) and ${found.networks} network(s) labelled by faultline, of those runs\n`);
    if (alive.length > 0) process.stdout.write(`clean: left alone ${alive.length} run(s) still going: ${alive.map((r) => `${r.runId} (pid ${r.pid})`).join(', ')}\n`);
  } else if (found.processes + found.dirs + found.containers + found.networks > 0) {
    process.stdout.write(`leftovers: ${found.processes} process(es), ${found.dirs} temp dir(s), ${found.containers} container(s) and ${found.networks} network(s) of ${dead.length} killed run(s); faultline doctor --clean removes them\n`);
  }
  const known = new Set(ids);
  const strays = [...new Set([...processes.map((p) => p.runId), ...docker.keys()])].filter((id) => !known.has(id));
  if (strays.length > 0) {
    process.stdout.write(`note: run(s) ${strays.join(', ')} have processes or containers but no record (a program using the runtimes directly, or a faultline from before run records); doctor leaves them alone\n`);
  }
}

/**
 * `faultline doctor`: Node's version and each system program, found or missing with how to
 * install it; which runtime `auto` picks; what killed runs left. With `clean`: stops and removes
 * what killed runs left (process groups, temp dirs, containers, networks), and nothing of a run
 * still going.
 */
export async function doctorCommand(opts: { clean?: boolean } = {}): Promise<number> {
  let ok = true;
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const nodeOk = major > NODE_MIN[0] || (major === NODE_MIN[0] && minor >= NODE_MIN[1]);
  ok &&= nodeOk;
  process.stdout.write(`${nodeOk ? 'ok     ' : 'MISSING'}  node ${process.version}${nodeOk ? '' : ` (need >= ${NODE_MIN.join('.')}: npm run setup, or npm install -g --force node@22)`}\n`);
  for (const p of systemPrograms) {
    // A library has no command to ask: its file is looked for.
    const name = 'file' in p ? p.file : p.command;
    const version = 'file' in p ? (existsSync(p.file) ? 'found' : undefined) : programVersion(p.command, p.versionArgs);
    ok &&= version !== undefined;
    process.stdout.write(version
      ? `ok       ${name}: ${version}  (${p.purpose})\n`
      : `MISSING  ${name}  (${p.purpose}): npm run setup, or apt-get install -y ${p.debianPackage}\n`);
  }
  for (const t of goTools) {
    const found = findGoTool(t);
    ok &&= found !== undefined;
    process.stdout.write(found
      ? `ok       ${t.command}: ${found}  (${t.purpose})\n`
      : `MISSING  ${t.command}  (${t.purpose}): npm run setup, or go install ${t.module}\n`);
  }
  for (const t of npmTools) {
    const found = findNpmTool(t);
    ok &&= found !== undefined;
    process.stdout.write(found
      ? `ok       ${t.package} ${t.version}: ${found}  (${t.purpose})\n`
      : `MISSING  ${t.package} ${t.version}  (${t.purpose}): npm run setup (it builds it from source into faultline's tool cache)\n`);
  }
  const engine = engineAnswers();
  process.stdout.write(engine
    ? 'runtime: auto picks docker (a Docker engine answers)\n'
    : 'runtime: auto picks local (no Docker engine answers; node harness/tooling/docker/engine.ts start starts one)\n');
  await leftoversOfRuns(engine, opts.clean === true);
  return ok ? ExitCode.Pass : ExitCode.InvalidInput;
}
