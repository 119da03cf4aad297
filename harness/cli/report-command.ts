import { stat } from 'node:fs/promises';
import { dirname, relative, resolve } from 'node:path';
import { readResultFile } from '../../reports/read-result.ts';
import { reportsSummary, writeReports, type ReportsWritten } from '../../reports/report-formats.ts';
import { findResultFiles, writeRunIndex } from '../../reports/run-index.ts';
import { ExitCode, FaultlineError, formatError } from '../errors.ts';

function print(written: ReportsWritten): boolean {
  const { stdout, stderr } = reportsSummary(written, process.cwd());
  process.stdout.write(stdout);
  process.stderr.write(stderr);
  return written.failures.length === 0;
}

/**
 * `faultline report <result.json | folder>`: re-renders every report format from a result
 * without running anything, next to it or into `--out`. Given a folder, re-renders every run
 * below it and writes the folder's index.html. Exit 0 when every report was written, 2 when the
 * input is invalid or a report failed.
 */
export async function reportCommand(arg: string, flags: { out?: string }): Promise<number> {
  const path = resolve(arg);
  const info = await stat(path).catch(() => undefined);
  if (!info) throw new FaultlineError('invalid-argument', `no such file or folder: ${arg}`, { hint: 'pass a result.json written by faultline run, or a folder of runs (results/)' });
  if (!info.isDirectory()) {
    const result = await readResultFile(path);
    return print(await writeReports(result, resolve(flags.out ?? dirname(path)))) ? ExitCode.Pass : ExitCode.InvalidInput;
  }
  if (flags.out !== undefined) throw new FaultlineError('invalid-argument', '--out applies to one result.json, not to a folder of runs', { hint: 'each run is re-rendered into its own folder' });
  const files = await findResultFiles(path);
  if (files.length === 0) throw new FaultlineError('invalid-argument', `no result.json in ${arg} or the folders below it`, { hint: 'faultline run writes results/<scenario>/<time>/result.json' });
  let ok = true;
  for (const file of files) {
    try {
      ok = print(await writeReports(await readResultFile(file), dirname(file))) && ok;
    } catch (err) {
      process.stderr.write(`${formatError(err)}\n`);
      ok = false;
    }
  }
  const index = await writeRunIndex(path);
  process.stdout.write(`index: ${relative(process.cwd(), index.path) || index.path} (${index.runs} runs)\n`);
  return ok ? ExitCode.Pass : ExitCode.InvalidInput;
}
