import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative, resolve } from 'node:path';
import { compareResults, DEFAULT_THRESHOLDS, describeThresholds, type CompareThresholds } from '../../reports/compare.ts';
import { renderCompareHtml } from '../../reports/compare-html.ts';
import { renderCompareMarkdown } from '../../reports/compare-markdown.ts';
import { appendStepSummary } from '../../reports/markdown-report.ts';
import { readResultFile } from '../../reports/read-result.ts';
import { ExitCode, FaultlineError } from '../errors.ts';

export interface CompareFlags {
  out?: string;
  'max-latency-increase'?: string;
  'max-throughput-drop'?: string;
  'max-error-increase'?: string;
}

/** `10%` → 0.1 (a sign is allowed and ignored: the flag's name says the direction). */
function percentFlag(flag: keyof CompareFlags, text: string | undefined, fallback: number): number {
  if (text === undefined) return fallback;
  const m = /^[+\-−]?(\d+(?:\.\d+)?)%$/.exec(text.trim());
  if (!m) throw new FaultlineError('invalid-argument', `--${flag} '${text}' is not a percentage`, { hint: "write it like '10%' or '0.5%'" });
  return Number(m[1]) / 100;
}

/**
 * `faultline compare <baseline.json> <current.json>`: every figure side by side with its change,
 * regressions beyond the thresholds flagged; writes compare.html and compare.md (next to the
 * current result, or into `--out`) and appends the Markdown to the CI step summary. Exit 1 on a
 * regression, 2 on invalid input, 0 otherwise.
 */
export async function compareCommand(baselineFile: string, currentFile: string, flags: CompareFlags): Promise<number> {
  const thresholds: CompareThresholds = {
    latencyIncrease: percentFlag('max-latency-increase', flags['max-latency-increase'], DEFAULT_THRESHOLDS.latencyIncrease),
    throughputDrop: percentFlag('max-throughput-drop', flags['max-throughput-drop'], DEFAULT_THRESHOLDS.throughputDrop),
    errorRateIncrease: percentFlag('max-error-increase', flags['max-error-increase'], DEFAULT_THRESHOLDS.errorRateIncrease),
  };
  const baseline = await readResultFile(baselineFile);
  const current = await readResultFile(currentFile);
  const comparison = compareResults(baseline, current, thresholds);
  if (comparison.designs.length === 0) {
    throw new FaultlineError('invalid-argument', 'the two results have no design in common', { hint: `baseline: ${baseline.designs.map((d) => d.name).join(', ') || 'none'}; current: ${current.designs.map((d) => d.name).join(', ') || 'none'} (designs are matched by name)` });
  }
  const out = resolve(flags.out ?? dirname(resolve(currentFile)));
  await mkdir(out, { recursive: true });
  const markdown = renderCompareMarkdown(comparison);
  const html = join(out, 'compare.html');
  const md = join(out, 'compare.md');
  await writeFile(html, renderCompareHtml(comparison));
  await writeFile(md, markdown);
  await appendStepSummary(markdown, process.env);

  const show = (p: string) => relative(process.cwd(), p) || p;
  const lines = [`compare: ${comparison.designs.length} design(s) matched by name; thresholds: ${describeThresholds(thresholds)}`];
  for (const note of comparison.notes) lines.push(`note: not like for like: ${note}`);
  for (const name of comparison.onlyInBaseline) lines.push(`note: ${name} is only in the baseline`);
  for (const name of comparison.onlyInCurrent) lines.push(`note: ${name} is only in the current run`);
  lines.push(comparison.regressions.length === 0 ? 'no regression' : `REGRESSION (${comparison.regressions.length}):`);
  lines.push(...comparison.regressions.map((r) => `  ${r}`));
  lines.push(`report: ${show(html)}`, `also: ${show(md)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return comparison.regressions.length > 0 ? ExitCode.SlaFailed : ExitCode.Pass;
}
