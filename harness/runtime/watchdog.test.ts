import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { procInfo } from './run-registry.ts';

const module = fileURLToPath(new URL('./watchdog.ts', import.meta.url));
let tmp: string;
const leftover: number[] = [];

beforeEach(() => {
  tmp = mkdtempSync(join(tmpdir(), 'faultline-watchdog-test-'));
});
afterEach(() => {
  for (const pid of leftover.splice(0)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      // Gone already.
    }
  }
  rmSync(tmp, { recursive: true, force: true });
});

/**
 * A process that owns run `w1` as `faultline run` does: starts the watchdog, starts `sleep` in a
 * group of its own with no tags (so only the `group` line names it) and tells the watchdog; with
 * `finish`, ends the run normally. Resolves once both are up.
 */
async function owner(finish: boolean): Promise<{ kill(): Promise<void>; watchdog: number; sleeper: number }> {
  const script = `import { spawn } from 'node:child_process';
import { startWatchdog, watchGroup } from ${JSON.stringify(module)};
const w = startWatchdog('w1');
const s = spawn('sleep', ['60'], { detached: true, stdio: 'ignore', cwd: '/', env: { PATH: process.env.PATH } });
watchGroup(s.pid);
${finish ? 'w.finish();' : ''}
console.log(JSON.stringify({ watchdog: w.pid, sleeper: s.pid }));
setInterval(() => {}, 1000);`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'], env: { ...process.env, TMPDIR: tmp } });
  const closed = new Promise((resolve) => child.once('close', resolve));
  const line = await new Promise<string>((resolve) => child.stdout.once('data', (d: Buffer) => resolve(d.toString())));
  const pids = JSON.parse(line) as { watchdog: number; sleeper: number };
  leftover.push(pids.sleeper);
  return { ...pids, kill: async () => void (child.kill('SIGKILL'), await closed) };
}

async function within(ms: number, done: () => boolean): Promise<boolean> {
  for (const end = performance.now() + ms; performance.now() < end; await new Promise((r) => setTimeout(r, 20))) if (done()) return true;
  return done();
}

describe('the run watchdog', () => {
  it("kills the groups it was told of, frozen ones too, and removes the run's temp dirs when its owner is SIGKILLed", async () => {
    mkdirSync(join(tmp, 'faultline-w1-svc-abc'));
    mkdirSync(join(tmp, 'faultline-w10-svc-abc'));
    const o = await owner(false);
    process.kill(-o.sleeper, 'SIGSTOP');
    expect(await within(2000, () => procInfo(o.sleeper)?.state === 'T')).toBe(true);
    await o.kill();
    // A bound, not a goal.
    expect(await within(3000, () => procInfo(o.sleeper) === undefined)).toBe(true);
    expect(await within(3000, () => procInfo(o.watchdog) === undefined)).toBe(true);
    expect(existsSync(join(tmp, 'faultline-w1-svc-abc'))).toBe(false);
    // Run w10's dir is not w1's.
    expect(existsSync(join(tmp, 'faultline-w10-svc-abc'))).toBe(true);
  });

  it('exits doing nothing after a normal end', async () => {
    mkdirSync(join(tmp, 'faultline-w1-svc-abc'));
    const o = await owner(true);
    expect(await within(3000, () => procInfo(o.watchdog) === undefined)).toBe(true);
    await o.kill();
    expect(procInfo(o.sleeper)?.state).toMatch(/^[RS]$/);
    expect(existsSync(join(tmp, 'faultline-w1-svc-abc'))).toBe(true);
  });
});
