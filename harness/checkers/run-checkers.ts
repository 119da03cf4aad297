import { createReadStream } from 'node:fs';
import { createInterface } from 'node:readline';
import type { HistoryRecord } from '../metrics/sink.ts';
import type { CheckCount, FaultRecord } from '../result/result.ts';
import { MAX_EXAMPLES, type CheckerDefinition } from './checker.ts';

/** Reads a history file back, one record a line, in the order written; no file reads as empty. */
export async function* readHistory(file: string | undefined): AsyncGenerator<HistoryRecord> {
  if (file === undefined) return;
  const lines = createInterface({ input: createReadStream(file, { encoding: 'utf8' }), crlfDelay: Infinity });
  for await (const line of lines) {
    if (line.length > 0) yield JSON.parse(line) as HistoryRecord;
  }
}

/**
 * Runs every checker over a design's history and collects their counts by name, each with its
 * checker, its declared unit and at most MAX_EXAMPLES examples. A count a checker declared but
 * did not return is an error in that checker, not a zero.
 */
export async function runCheckers(checkers: readonly CheckerDefinition[], historyFile: string | undefined, faults: readonly FaultRecord[], windowMs: number): Promise<Record<string, CheckCount>> {
  const out: Record<string, CheckCount> = {};
  for (const checker of checkers) {
    const found = await checker.check({ history: () => readHistory(historyFile), faults, windowMs });
    for (const [name, decl] of Object.entries(checker.counts)) {
      const c = found[name];
      if (!c) throw new Error(`checker '${checker.name}' declared the count '${name}' but did not return it`);
      out[name] = { ...c, checker: checker.name, unit: decl.unit, examples: c.examples.slice(0, MAX_EXAMPLES) };
    }
  }
  return out;
}
