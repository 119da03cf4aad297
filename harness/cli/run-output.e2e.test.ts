import { existsSync, readdirSync } from 'node:fs';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { RunResult } from '../result/result.ts';
import { runCli } from '../testing/cli.ts';
import { processesOfRun } from '../testing/processes.ts';

const harness = fileURLToPath(new URL('../index.ts', import.meta.url));

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-run-output-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

/** Three cheap designs (one http-service each, 50 req/s of /health), run one after the other. */
async function threeDesigns(): Promise<string> {
  const file = join(work, 'three.ts');
  await writeFile(file, `import { defineScenario, http, httpService } from ${JSON.stringify(harness)};
export default defineScenario({
  name: 'three',
  description: 'three designs, to crash the run in the second',
  designs: { one: httpService(), two: httpService(), three: httpService() },
  workload: http({ model: 'open', rate: 50, path: '/health' }),
  warmup: '0s',
  duration: '3s',
});\n`);
  return file;
}

/**
 * A run killed with SIGKILL never stops what it started: the test stops the services left
 * behind by their PIDs (each carries the run id in its environment), and waits until none is.
 */
async function stopLeftovers(runId: string): Promise<number[]> {
  const left = processesOfRun(runId);
  for (const pid of left) {
    try {
      process.kill(pid, 'SIGKILL');
    } catch {
      // It ended on its own meanwhile.
    }
  }
  for (let i = 0; i < 100 && processesOfRun(runId).length > 0; i++) await sleep(50);
  return left;
}

describe('a run killed in its second design', () => {
  const out = () => join(work, 'crash');
  const runId = `crash${process.pid}`;
  let seen: RunResult[];
  let afterKill: RunResult;
  let code: number | null;
  let signal: NodeJS.Signals | null;

  beforeAll(async () => {
    const run = runCli(['run', await threeDesigns(), '--out', out()], { env: { FAULTLINE_RUN_ID: runId, TMPDIR: await mkdtemp(join(work, 'tmp-')) } });
    const file = join(out(), 'result.json');
    seen = [];
    try {
      // Every read of result.json while the run goes on is a whole document.
      for (let i = 0; i < 1200 && !seen.some((r) => r.designs.length >= 1); i++) {
        if (existsSync(file)) seen.push(JSON.parse(await readFile(file, 'utf8')) as RunResult);
        await sleep(50);
      }
      await run.waitFor(/\[two\] measuring/, 60_000);
    } finally {
      run.child.kill('SIGKILL');
      ({ code } = await run.done);
      signal = run.child.signalCode;
      await stopLeftovers(runId);
    }
    afterKill = JSON.parse(await readFile(file, 'utf8')) as RunResult;
  });

  it('was killed, not stopped in order', () => {
    expect([code, signal]).toEqual([null, 'SIGKILL']);
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('left result.json as valid JSON holding design one, complete, and nothing of design two', () => {
    expect(seen.length).toBeGreaterThan(0);
    expect(afterKill.complete).toBe(false);
    expect(afterKill.passed).toBe(false);
    expect(afterKill.designs.map((d) => d.name)).toEqual(['one']);
    const one = afterKill.designs[0]!;
    expect(one.status).toBe('completed');
    expect(one.series).toHaveLength(3);
    expect(one.series.reduce((n, s) => n + s.ops, 0)).toBe(one.totals.ops);
    expect(one.totals.ops).toBeGreaterThan(0);
    expect(one.services.map((s) => s.program)).toEqual(['node']);
    expect(afterKill.scenario).toMatchObject({ name: 'three', durationMs: 3000, designs: { one: {}, two: {}, three: {} } });
    // What was read while the run went on is that same design, not a half-written file.
    expect(seen.at(-1)!.designs.map((d) => d.totals.ops)).toEqual([one.totals.ops]);
  });

  it('refuses to run into the same folder again, naming it and --force, and starts nothing', async () => {
    const before = await readFile(join(out(), 'result.json'), 'utf8');
    const again = `again${process.pid}`;
    const { code, stdout, stderr } = await runCli(['run', await threeDesigns(), '--out', out()], { env: { FAULTLINE_RUN_ID: again } }).done;
    expect(code).toBe(2);
    expect(stderr).toContain(`error: the output folder ${out()} already holds a run (result.json, logs)`);
    expect(stderr).toMatch(/hint: pass --force to overwrite it/);
    expect(stdout).not.toMatch(/starting services/);
    expect(await readFile(join(out(), 'result.json'), 'utf8')).toBe(before);
    expect(processesOfRun(again)).toEqual([]);
  });

  it('with --force, runs into it and leaves only the new run in result.json', async () => {
    const forced = `force${process.pid}`;
    const { code, stderr } = await runCli(['run', await threeDesigns(), '--out', out(), '--force', '--design', 'three', '--duration', '1s'], { env: { FAULTLINE_RUN_ID: forced } }).done;
    expect(code, stderr).toBe(0);
    const result = JSON.parse(await readFile(join(out(), 'result.json'), 'utf8')) as RunResult;
    expect(result.complete).toBe(true);
    expect(result.designs.map((d) => d.name)).toEqual(['three']);
    expect(readdirSync(out()).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    expect(processesOfRun(forced)).toEqual([]);
  });
});

describe('out-of-bounds input', () => {
  it('exits 2 on a 100000h window and a header name with a newline, naming both fields, and starts nothing', async () => {
    const file = join(work, 'unbounded.ts');
    await writeFile(file, `export default {
      name: 'unbounded',
      description: 'too long, and a header that would split the request',
      designs: { one: { target: 'http-service' } },
      workload: { kind: 'http', model: 'open', rate: 10, requests: [{ path: '/health', headers: { 'X-Bad\\nInjected': 'yes', 'X-Split': 'a\\r\\nb' } }] },
      duration: '100000h',
    };\n`);
    const out = join(work, 'unbounded-out');
    const runId = `bounds${process.pid}`;
    const { code, stdout, stderr } = await runCli(['run', file, '--out', out], { env: { FAULTLINE_RUN_ID: runId } }).done;
    expect(code).toBe(2);
    expect(stderr).toMatch(/scenario file .*unbounded\.ts has 3 problems; nothing was started/);
    expect(stderr).toMatch(/unbounded\.ts: duration: '100000h' is longer than 24h/);
    expect(stderr).toContain('unbounded.ts: workload.requests[0].headers["X-Bad\\nInjected"]: header name "X-Bad\\nInjected" is not an RFC 7230 token');
    expect(stderr).toMatch(/unbounded\.ts: workload\.requests\[0\]\.headers\.X-Split: header value "a\\r\\nb" holds a CR, LF, NUL/);
    expect(stdout).toBe('');
    expect(existsSync(out)).toBe(false);
    expect(processesOfRun(runId)).toEqual([]);
  });

  it('exits 2 when --time-scale would stretch the window past 24h, and on a --duration past it', async () => {
    const file = join(work, 'long.ts');
    await writeFile(file, `export default {
      name: 'long',
      description: 'a three-hour window',
      designs: { one: { target: 'http-service' } },
      workload: { kind: 'http', model: 'open', rate: 10, path: '/health' },
      duration: '3h',
    };\n`);
    const scaled = await runCli(['run', file, '--time-scale', '10', '--out', join(work, 'long-out')]).done;
    expect(scaled.code).toBe(2);
    expect(scaled.stderr).toMatch(/error: duration: 30h \(after --time-scale 10\) is longer than 24h/);
    const flag = await runCli(['run', file, '--duration', '25h', '--out', join(work, 'long-out')]).done;
    expect(flag.code).toBe(2);
    expect(flag.stderr).toMatch(/--duration '25h' is not a duration of at least 1000 ms and at most 24h/);
    expect(existsSync(join(work, 'long-out'))).toBe(false);
  });
});
