import { spawn } from 'node:child_process';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';

const hook = fileURLToPath(new URL('./record-modules.mjs', import.meta.url));

/**
 * Runs `node <args>` with a module hook and returns the URL of every module it loaded (ESM and
 * CommonJS), with its exit code: what a command pulls in, without timing anything.
 */
export async function loadedModules(args: string[], opts: { cwd?: string; env?: Record<string, string> } = {}): Promise<{ code: number | null; modules: string[]; stderr: string }> {
  const dir = await mkdtemp(join(tmpdir(), 'faultline-modules-'));
  const out = join(dir, 'modules.txt');
  try {
    const child = spawn(process.execPath, ['--import', hook, ...args], { cwd: opts.cwd, env: { ...process.env, ...opts.env, FAULTLINE_MODULES_OUT: out }, stdio: ['ignore', 'ignore', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    const code = await new Promise<number | null>((resolve) => child.once('close', resolve));
    return { code, modules: (await readFile(out, 'utf8')).split('\n').filter(Boolean), stderr };
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** The npm packages among module URLs (`kafkajs`, `@grpc/grpc-js`), each once. */
export function packagesOf(modules: readonly string[]): string[] {
  const names = new Set<string>();
  for (const m of modules) {
    const at = m.lastIndexOf('/node_modules/');
    if (at < 0) continue;
    const [scope, name] = m.slice(at + '/node_modules/'.length).split('/');
    names.add(scope!.startsWith('@') ? `${scope}/${name}` : scope!);
  }
  return [...names].sort();
}
