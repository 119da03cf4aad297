import { readFile } from 'node:fs/promises';
import { FaultlineError } from '../harness/errors.ts';
import type { RunResult } from '../harness/result/result.ts';
import { upgradeResult } from '../harness/result/upgrade-result.ts';

const hint = 'pass the result.json that faultline run wrote (results/<scenario>/<time>/result.json)';

/**
 * Reads a result.json written by `faultline run` (any schema this faultline knows) and brings it
 * up to the current schema; a missing, malformed or newer file is an invalid-argument error.
 */
export async function readResultFile(file: string): Promise<RunResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FaultlineError('invalid-argument', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { hint });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FaultlineError('invalid-argument', `${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`, { hint });
  }
  return upgradeResult(doc, file);
}
