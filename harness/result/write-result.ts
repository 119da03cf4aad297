import { randomBytes } from 'node:crypto';
import { open, rename, rm } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { FaultlineError } from '../errors.ts';
import type { RunResult } from './result.ts';

/**
 * Writes result.json so a reader (or a crash) only ever sees a whole document: the text goes to
 * a temp file in the same folder, is flushed to disk, then renamed over `file` (a rename within
 * one file system replaces the old file in one step). The temp file is removed if any step fails.
 */
export async function writeResultFile(file: string, result: RunResult): Promise<void> {
  const temp = join(dirname(file), `.${basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    const handle = await open(temp, 'wx');
    try {
      await handle.writeFile(`${JSON.stringify(result, null, 2)}\n`);
      await handle.sync();
    } finally {
      await handle.close();
    }
    await rename(temp, file);
  } catch (err) {
    await rm(temp, { force: true });
    throw new FaultlineError('setup', `could not write ${file}: ${err instanceof Error ? err.message : String(err)}`, {
      hint: 'check that the output folder is writable and its disk has room',
      cause: err,
    });
  }
}
