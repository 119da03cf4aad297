import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { ownFile } from '../base/own-file.ts';
import { ExitCode } from '../errors.ts';

/**
 * `faultline setup`: installs the system programs, Go tools and Maven jars faultline's
 * scenarios run (the repository's `npm run setup` without its Node and npm steps), checking
 * first, so it also serves a project that installed faultline as a dependency.
 */
export async function setupCommand(): Promise<number> {
  // Plain JavaScript, next to this module in both forms (the repository and the package).
  const script = ownFile('../tooling/setup/setup.mjs', import.meta.url);
  const child = spawn(process.execPath, [script, '--tools-only'], { stdio: 'inherit' });
  const [code] = (await once(child, 'exit')) as [number | null];
  return code === 0 ? ExitCode.Pass : ExitCode.HarnessError;
}
