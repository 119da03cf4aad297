import { appendFile } from 'node:fs/promises';
import { formatValue } from '../harness/result/format.ts';
import type { RunResult } from '../harness/result/result.ts';
import { figureEntries } from './figures.ts';
import { escapeMarkdown as md } from './html/escape.ts';
import { formatSpan, formatWhen } from './html/parts.ts';
import type { ReportFormat } from './report-format.ts';
import { designsNotRun, runVerdict, slaMatrix, thresholdText, windowText } from './verdict.ts';

const icon = { pass: '✅', fail: '❌', incomplete: '⚠️' } as const;

/** A Markdown table; cells are already escaped. */
export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[] = []): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (align[i] === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

/**
 * A compact Markdown summary of a run (a CI step summary, a pull-request comment): the verdict,
 * the SLA matrix and the headline figures of each design.
 */
export function renderMarkdown(result: RunResult): string {
  const v = runVerdict(result);
  const s = result.scenario;
  const out = [`### ${icon[v.status]} ${md(s.name)}: ${md(v.text)}`, ''];
  out.push(`${md(s.description)}  `, `started ${formatWhen(result.startedAt)} · each design warm-up ${formatSpan(s.warmupMs)}, measured ${formatSpan(s.durationMs)} · runtime ${md(result.environment.runtime)} · faultline ${md(result.environment.faultline)}`, '');
  if (!result.complete) {
    const notRun = designsNotRun(result);
    out.push(`> ${icon.incomplete} **Incomplete run**: it was cut short${notRun.length > 0 ? `; not run: ${notRun.map(md).join(', ')}` : ''}. Figures cover only what was measured.`, '');
  }
  const matrix = slaMatrix(result);
  if (matrix.length > 0) {
    out.push(markdownTable(
      ['SLA line', 'threshold', 'window', ...result.designs.map((d) => md(d.name))],
      matrix.map((row) => [md(row.line), md(thresholdText(row.example)), md(windowText(row.example)), ...row.cells.map((c) => (c ? `${c.pass ? icon.pass : icon.fail} ${md(c.measuredText)}` : '—'))]),
    ), '');
  }
  const shown = figureEntries(['requests', 'throughput', 'errors', 'p50', 'p99', 'p999', 'max']);
  out.push(markdownTable(
    ['design', 'status', ...shown.map(([, f]) => f.label)],
    result.designs.map((d) => [md(d.name), d.status === 'completed' ? (d.passed ? icon.pass : icon.fail) : `${icon.incomplete} ${d.status}`, ...shown.map(([, f]) => formatValue(f.value(d), f.unit))]),
    ['l', 'l', ...shown.map(() => 'r' as const)],
  ), '');
  return out.join('\n');
}

/** Appends Markdown to the CI step summary when `GITHUB_STEP_SUMMARY` names one; otherwise does nothing. */
export async function appendStepSummary(markdown: string, env: Readonly<Record<string, string | undefined>>): Promise<void> {
  const file = env.GITHUB_STEP_SUMMARY;
  if (file) await appendFile(file, `${markdown}\n`);
}

/** `summary.md`: the verdict table, also appended to the CI step summary. */
export const markdownReport: ReportFormat = {
  describe: 'summary.md: a compact verdict table (appended to $GITHUB_STEP_SUMMARY when set)',
  render: (result) => [{ path: 'summary.md', content: renderMarkdown(result) }],
  publish: async (files, env) => {
    for (const f of files) await appendStepSummary(f.content, env);
  },
};
