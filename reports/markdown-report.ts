import { appendFile } from 'node:fs/promises';
import { formatLatency, formatValue } from '../harness/result/format.ts';
import type { DesignResult, RunResult } from '../harness/result/result.ts';
import { figureEntries } from './figures.ts';
import { escapeMarkdown as md } from './html/escape.ts';
import { formatSpan, formatWhen } from './html/parts.ts';
import { checkRows, checkValueText, counterText, formatGauge, gaugeUnit, metricNames, rowExamples } from './named-metrics.ts';
import type { ReportFormat } from './report-format.ts';
import { designsNotRun, runVerdict, slaMatrix, thresholdText, windowText } from './verdict.ts';
import { noiseLines, trialLines } from './trials.ts';

const icon = { pass: '✅', fail: '❌', incomplete: '⚠️' } as const;

/** How many of a checker count's examples per design the summary shows. */
const MARKDOWN_EXAMPLES = 3;

/** A Markdown table; cells are already escaped. */
export function markdownTable(head: readonly string[], rows: readonly (readonly string[])[], align: readonly ('l' | 'r')[] = []): string {
  const line = (cells: readonly string[]) => `| ${cells.join(' | ')} |`;
  return [line(head), line(head.map((_, i) => (align[i] === 'r' ? '---:' : '---'))), ...rows.map(line)].join('\n');
}

/**
 * A compact Markdown summary of a run (a CI step summary, a pull-request comment): the verdict,
 * the SLA matrix, the headline figures and counters of each design, its named distributions
 * (p50, p99) and gauges (max), and the checker counts with their first examples.
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
  const shown = figureEntries(['ops', 'throughput', 'errors', 'p50', 'p99', 'p999', 'max']);
  const counters = metricNames(result, 'counter');
  out.push(markdownTable(
    ['design', 'status', ...shown.map(([, f]) => md(f.label(s.wording))), ...counters.map(md)],
    result.designs.map((d) => [
      md(d.name),
      (d.status === 'completed' ? (d.passed ? icon.pass : icon.fail) : `${icon.incomplete} ${d.status}`) + (d.generatorBound ? ' (generator-bound)' : ''),
      ...shown.map(([, f]) => formatValue(f.value(d), f.unit)),
      ...counters.map((n) => counterText(result, d, n)),
    ]),
    ['l', 'l', ...shown.map(() => 'r' as const), ...counters.map(() => 'r' as const)],
  ), '');
  out.push(...namedTable(result), ...checksTable(result));
  const trials = [...result.designs.flatMap((d) => trialLines(d).map((l, i) => (i === 0 ? `**${md(d.name)}** ${md(l)}` : `- ${md(l.trim())}`))), ...noiseLines(result).map(md)];
  if (trials.length > 0) out.push(...trials, '');
  return out.join('\n');
}

/** Each design's named distributions (p50, p99) and gauges (max), when any design has one. */
function namedTable(result: RunResult): string[] {
  const distributions = metricNames(result, 'distribution');
  const gauges = metricNames(result, 'gauge');
  if (distributions.length + gauges.length === 0) return [];
  const p = (d: DesignResult, n: string, k: 'p50' | 'p99') => {
    const x = d.distributions[n];
    return x && x.count > 0 ? formatLatency(x.latencyUs[k]) : '—';
  };
  return [markdownTable(
    ['design', ...distributions.flatMap((n) => [`${md(n)} p50`, `${md(n)} p99`]), ...gauges.map((n) => `${md(n)} max`)],
    result.designs.map((d) => [
      md(d.name),
      ...distributions.flatMap((n) => [p(d, n, 'p50'), p(d, n, 'p99')]),
      ...gauges.map((n) => (d.gauges[n] ? formatGauge(d.gauges[n].max, gaugeUnit(result, n)) : '—')),
    ]),
    ['l', ...distributions.flatMap(() => ['r', 'r'] as const), ...gauges.map(() => 'r' as const)],
  ), ''];
}

/** The checker counts: each design's value and the first examples, when any design has one. */
function checksTable(result: RunResult): string[] {
  const rows = checkRows(result);
  if (rows.length === 0) return [];
  const several = result.designs.length > 1;
  return [markdownTable(
    ['check', ...result.designs.map((d) => md(d.name)), 'first examples'],
    rows.map((row) => [
      md(row.name),
      ...row.cells.map((c) => (c ? md(checkValueText(c)) : '—')),
      rowExamples(result, row, MARKDOWN_EXAMPLES).map((e) => `${several ? `${md(e.design)}: ` : ''}${e.examples.map(md).join('; ')}`).join('<br>'),
    ]),
    ['l', ...result.designs.map(() => 'r' as const), 'l'],
  ), ''];
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
