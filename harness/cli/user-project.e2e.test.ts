import { execFile } from 'node:child_process';
import { existsSync } from 'node:fs';
import { mkdtemp, readdir, readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { RunResult } from '../result/result.ts';
import { leftovers } from '../runtime/docker-leftovers.ts';
import { processesOfRun } from '../testing/processes.ts';
import { buildImages, localImageEnv } from '../tooling/docker/build-images.ts';
import { engineUnavailableReason, startEngine, stopEngine, type EngineHandle } from '../tooling/docker/engine.ts';

const run = promisify(execFile);
const dockerUnavailable = engineUnavailableReason();

/** `npm run scenario` in the project with extra arguments: its exit code and output, whatever the code. */
function npmScenario(cwd: string, args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return run('npm', ['run', 'scenario', '--', ...args], { cwd, env: { ...process.env, ...env }, maxBuffer: 64 * 2 ** 20 }).then(
    (r) => ({ code: 0, ...r }),
    (err: { code: number; stdout: string; stderr: string }) => ({ code: err.code, stdout: err.stdout, stderr: err.stderr }),
  );
}
const repo = fileURLToPath(new URL('../..', import.meta.url));

/** A scenario as a user writes it in their own project: TypeScript, importing the package by name. */
const scenario = `import { defineScenario, http, httpService } from 'faultline';

export default defineScenario({
  name: 'smoke',
  description: 'our service answers /health under a light open load, and through a short freeze',
  designs: { service: httpService() },
  workload: http({ model: 'open', rate: 50, path: '/health' }),
  warmup: '1s',
  duration: '4s',
  faults: [{ name: 'freeze', at: '2s', for: '500ms', service: 'service', pause: true }],
  sla: ['errors < 1%', { before: 'freeze', check: 'p99 < 500ms' }],
});
`;

describe('faultline installed in a project of its own, from the packed tarball', () => {
  const runId = `userproj${process.pid}`;
  let work: string;
  let project: string;
  let scenarioRun: { code: number; stdout: string; stderr: string };

  beforeAll(async () => {
    work = await mkdtemp(join(tmpdir(), 'faultline-user-project-'));
    // What a user installs: `npm pack` builds the compiled package (prepack) into a tarball.
    // (`prepack` builds too; built first here so that pack's --json output stands alone.)
    await run('npm', ['run', 'build'], { cwd: repo, maxBuffer: 64 * 2 ** 20 });
    const packed = await run('npm', ['pack', '--ignore-scripts', '--pack-destination', work, '--json'], { cwd: repo, maxBuffer: 64 * 2 ** 20 });
    const tarball = join(work, (JSON.parse(packed.stdout) as { filename: string }[])[0]!.filename);
    project = join(work, 'my-service');
    await mkdir(join(project, 'scenarios'), { recursive: true });
    await writeFile(join(project, 'package.json'), JSON.stringify({ name: 'my-service', private: true, type: 'module', scripts: { scenario: 'faultline run scenarios/smoke.ts' } }, null, 2));
    await writeFile(join(project, 'scenarios', 'smoke.ts'), scenario);
    // Its dependencies come from the registry (the machine's npm cache first).
    await run('npm', ['install', '--save-dev', '--no-audit', '--no-fund', '--prefer-offline', tarball], { cwd: project, maxBuffer: 64 * 2 ** 20 });
    scenarioRun = await npmScenario(project, ['--runtime', 'local', '--out', 'results/smoke'], { FAULTLINE_RUN_ID: runId });
  }, 400_000);

  afterAll(async () => {
    await rm(work, { recursive: true, force: true });
  });

  it('installs compiled JavaScript with type declarations, no TypeScript sources, and a faultline bin', async () => {
    const pkg = join(project, 'node_modules', 'faultline');
    expect(existsSync(join(pkg, 'dist', 'harness', 'index.js'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'harness', 'index.d.ts'))).toBe(true);
    expect(existsSync(join(pkg, 'dist', 'targets', 'http-service', 'http-service-server.js'))).toBe(true);
    expect(existsSync(join(pkg, 'harness'))).toBe(false);
    const { stdout } = await run(join(project, 'node_modules', '.bin', 'faultline'), ['--help'], { cwd: project });
    expect(stdout).toMatch(/faultline setup/);
    // The package's own scenarios are listed once each, from their compiled files, and load.
    const list = await run(join(project, 'node_modules', '.bin', 'faultline'), ['list'], { cwd: project, maxBuffer: 16 * 2 ** 20 });
    const names = list.stdout.split('\n').filter((l) => /^\S/.test(l));
    expect(names).toContain('id-generators');
    expect(names.filter((n) => n.endsWith('.d'))).toEqual([]);
    expect(list.stdout).not.toMatch(/invalid:/);
  });

  it('runs the project\'s own TypeScript scenario through npm run scenario: exit 0, every report written, nothing left running', async () => {
    expect(scenarioRun.stderr).not.toMatch(/ERR_|Error:/);
    expect(scenarioRun.code).toBe(0);
    const out = join(project, 'results', 'smoke');
    expect((await readdir(out)).sort()).toEqual(expect.arrayContaining(['junit.xml', 'report.html', 'result.json', 'summary.md']));
    const result = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
    const d = result.designs[0]!;
    expect([d.name, d.status, d.passed]).toEqual(['service', 'completed', true]);
    expect(d.totals.ok).toBeGreaterThan(0);
    // The service program ran from inside node_modules (compiled), frozen and thawed by the fault.
    expect(d.faults.map((f) => [f.name, f.error])).toEqual([['freeze', undefined]]);
    expect(d.services.map((s) => s.name)).toEqual(['service']);
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('ships a GitHub Actions workflow that installs, sets up, runs the scenario and publishes the report', async () => {
    const workflow = parse(await readFile(join(repo, 'examples', 'github-workflow.yml'), 'utf8')) as {
      on: Record<string, unknown>;
      jobs: Record<string, { 'runs-on': string; steps: { name?: string; uses?: string; run?: string; if?: string; with?: Record<string, unknown> }[] }>;
    };
    expect(Object.keys(workflow.on)).toContain('pull_request');
    const steps = Object.values(workflow.jobs)[0]!.steps;
    const at = (match: (s: (typeof steps)[number]) => boolean) => steps.findIndex(match);
    const order = [
      at((s) => s.uses?.startsWith('actions/checkout@') === true),
      at((s) => s.uses?.startsWith('actions/setup-node@') === true && String(s.with?.['node-version']).startsWith('22')),
      at((s) => s.run === 'npm ci'),
      at((s) => s.run === 'npx faultline setup'),
      at((s) => s.run?.startsWith('npm run scenario') === true),
      at((s) => s.uses?.startsWith('actions/upload-artifact@') === true && s.if === 'always()'),
      at((s) => s.run?.includes('$GITHUB_STEP_SUMMARY') === true && s.if === 'always()'),
    ];
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    // The report it uploads is where the scenario step writes it.
    const out = /--out (\S+)/.exec(steps[order[4]!]!.run!)?.[1];
    expect(steps[order[5]!]!.with?.path).toBe(out);
    expect(steps[order[6]!]!.run).toContain(`${out}/summary.md`);
  });

  describe.skipIf(dockerUnavailable !== undefined)('with --runtime docker', () => {
    const dockerRunId = `userprojd${process.pid}`;
    let engine: EngineHandle = {};
    let dockerRun: { code: number; stdout: string; stderr: string };

    beforeAll(async () => {
      engine = await startEngine();
      buildImages();
      dockerRun = await npmScenario(project, ['--runtime', 'docker', '--out', 'results/smoke-docker'], { ...localImageEnv(), FAULTLINE_RUN_ID: dockerRunId });
    }, 600_000);
    afterAll(async () => {
      await stopEngine(engine);
    }, 60_000);

    it("runs the service's compiled files from node_modules in a node container", async () => {
      expect(dockerRun.stdout).toMatch(/runtime docker/);
      expect(dockerRun.code).toBe(0);
      const result = JSON.parse(await readFile(join(project, 'results', 'smoke-docker', 'result.json'), 'utf8')) as RunResult;
      const d = result.designs[0]!;
      expect([d.status, d.passed]).toEqual(['completed', true]);
      expect(d.totals.ok).toBeGreaterThan(0);
      expect(d.faults.map((f) => [f.name, f.error])).toEqual([['freeze', undefined]]);
      expect(leftovers(dockerRunId)).toEqual({ containers: [], networks: [] });
    });
  });
});
