import { mkdir, readdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { FaultlineError } from '../errors.ts';

/** What a run writes into its output folder: finding any of these there means a run already used it. */
export const RUN_FILES = ['result.json', 'report.html', 'junit.xml', 'summary.md', 'charts', 'logs', 'history'] as const;

/** Tries at most this many names for one second before giving up (a hundred runs started in the same second). */
const MAX_SAME_SECOND = 100;

/** A run's start time as a folder name, to the second: `20250314-093015` (UTC). */
export function timestamp(d: Date): string {
  return d.toISOString().replace(/[-:]/g, '').replace('T', '-').slice(0, 15);
}

/**
 * Creates a new, empty folder for one run under `parent`, named by its start time
 * (`20250314-093015`), then `-2`, `-3`, … when another run took that name in the same second.
 * Each name is taken with a plain (non-recursive) mkdir, which fails when the folder exists, so
 * two runs started together never share a folder. Returns its path.
 */
export async function newRunFolder(parent: string, now: Date): Promise<string> {
  await mkdir(parent, { recursive: true });
  const base = timestamp(now);
  for (let n = 1; n <= MAX_SAME_SECOND; n++) {
    const dir = join(parent, n === 1 ? base : `${base}-${n}`);
    try {
      await mkdir(dir);
      return dir;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== 'EEXIST') throw err;
    }
  }
  throw new FaultlineError('setup', `${MAX_SAME_SECOND} runs already have output folders named ${join(parent, base)}*`, { hint: 'give the run its own folder with --out <dir>' });
}

/**
 * Makes `dir` (the `--out` folder) ready for a run. A folder that already holds a run's files
 * (result.json, its reports, logs or history) is refused, so a reused folder never silently
 * mixes or loses results; with `force` the run writes into it anyway, files of the same name
 * replaced, and the old result.json is removed first so that what is left after a crash is
 * always this run's. Other files in the folder are left alone either way.
 */
export async function prepareOutFolder(dir: string, force: boolean): Promise<void> {
  let present: Set<string>;
  try {
    await mkdir(dir, { recursive: true });
    present = new Set(await readdir(dir));
  } catch (err) {
    throw new FaultlineError('invalid-argument', `--out ${dir} cannot be used as the output folder: ${(err as Error).message}`, { hint: 'give a folder faultline may create and write to' });
  }
  const found = RUN_FILES.filter((f) => present.has(f));
  if (found.length === 0) return;
  if (!force) {
    throw new FaultlineError('invalid-argument', `the output folder ${dir} already holds a run (${found.join(', ')})`, {
      hint: 'pass --force to overwrite it, or choose another --out (or leave --out out: each run then gets a new folder under results/)',
    });
  }
  await rm(join(dir, 'result.json'), { force: true });
}
