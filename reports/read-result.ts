import { readFile } from 'node:fs/promises';
import { FaultlineError } from '../harness/errors.ts';
import { RESULT_SCHEMA_VERSION, type RunResult } from '../harness/result/result.ts';

/** Why a parsed document is not a result faultline can render, or undefined when it is. */
export function resultProblem(doc: unknown): string | undefined {
  if (typeof doc !== 'object' || doc === null) return 'it is not a JSON object';
  const r = doc as Partial<RunResult>;
  if (r.schemaVersion !== RESULT_SCHEMA_VERSION) return `its schemaVersion is ${JSON.stringify(r.schemaVersion)}, this faultline reads ${RESULT_SCHEMA_VERSION}`;
  if (typeof r.scenario?.name !== 'string') return 'it has no scenario.name';
  if (!Array.isArray(r.designs)) return 'it has no designs list';
  const bad = r.designs.findIndex((d) => typeof d?.name !== 'string' || !Array.isArray(d.series) || !Array.isArray(d.sla) || typeof d.totals !== 'object');
  if (bad >= 0) return `designs[${bad}] lacks a name, series, sla or totals`;
  return undefined;
}

/** Reads and checks a result.json written by `faultline run`; a missing or malformed file is an invalid-argument error. */
export async function readResultFile(file: string): Promise<RunResult> {
  let text: string;
  try {
    text = await readFile(file, 'utf8');
  } catch (err) {
    throw new FaultlineError('invalid-argument', `cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? String(err)}`, { hint: 'pass the result.json that faultline run wrote (results/<scenario>/<time>/result.json)' });
  }
  let doc: unknown;
  try {
    doc = JSON.parse(text);
  } catch (err) {
    throw new FaultlineError('invalid-argument', `${file} is not JSON: ${err instanceof Error ? err.message : String(err)}`, { hint: 'pass the result.json that faultline run wrote' });
  }
  const problem = resultProblem(doc);
  if (problem) throw new FaultlineError('invalid-argument', `${file} is not a faultline result: ${problem}`, { hint: 'pass the result.json that faultline run wrote' });
  return withLaterFields(doc as RunResult);
}

/** Fills fields that schema 1 gained after its first results were written (links, faults), so older files still render. */
export function withLaterFields(result: RunResult): RunResult {
  return { ...result, designs: result.designs.map((d) => ({ ...d, links: d.links ?? [], faults: d.faults ?? [] })) };
}
