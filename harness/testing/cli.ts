import { spawn, type ChildProcess } from 'node:child_process';
import { ownFile } from '../base/own-file.ts';

export const cliFile = ownFile('../cli/faultline.ts', import.meta.url);

export interface CliRun {
  child: ChildProcess;
  /** Resolves with the exit code and everything printed. */
  done: Promise<{ code: number | null; stdout: string; stderr: string }>;
  /** Resolves when stdout has printed a line matching `pattern`. */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<void>;
}

/**
 * Spawns the real CLI (`node harness/cli/faultline.ts …`) as a user would. Runs use the local
 * runtime unless `--runtime` or `FAULTLINE_RUNTIME` says otherwise, so an engine that happens
 * to answer does not change what a local test measures.
 */
export function runCli(args: string[], opts: { env?: Record<string, string>; cwd?: string } = {}): CliRun {
  const child = spawn(process.execPath, [cliFile, ...args], {
    cwd: opts.cwd ?? process.cwd(),
    env: { ...process.env, FAULTLINE_RUNTIME: 'local', ...opts.env },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  const watchers: { pattern: RegExp; resolve: () => void }[] = [];
  child.stdout!.on('data', (d: Buffer) => {
    stdout += d.toString();
    for (const w of watchers.splice(0)) {
      if (w.pattern.test(stdout)) w.resolve();
      else watchers.push(w);
    }
  });
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  const done = new Promise<{ code: number | null; stdout: string; stderr: string }>((resolve) => {
    child.once('close', (code) => resolve({ code, stdout, stderr }));
  });
  return {
    child,
    done,
    waitFor: (pattern, timeoutMs = 30_000) =>
      new Promise<void>((resolve, reject) => {
        if (pattern.test(stdout)) return resolve();
        const t = setTimeout(() => reject(new Error(`no output matching ${pattern} within ${timeoutMs} ms; stdout so far:\n${stdout}\nstderr:\n${stderr}`)), timeoutMs);
        watchers.push({ pattern, resolve: () => { clearTimeout(t); resolve(); } });
      }),
  };
}
