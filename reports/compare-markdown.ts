import { formatValue } from '../harness/result/format.ts';
import type { Comparison } from './compare.ts';
import { escapeMarkdown as md } from './html/escape.ts';
import { formatWhen } from './html/parts.ts';
import { markdownTable } from './markdown-report.ts';

/** The comparison of two runs as Markdown: the regressions first, then every figure, checker count and named distribution per design. */
export function renderCompareMarkdown(c: Comparison): string {
  const n = c.regressions.length;
  const out = [
    `### ${n > 0 ? '❌' : '✅'} ${md(c.current.scenario.name)}: ${n > 0 ? `${n} regression${n > 1 ? 's' : ''}` : 'no regression'} against the baseline`,
    '',
    `baseline ${formatWhen(c.baseline.startedAt)} · current ${formatWhen(c.current.startedAt)}`,
    '',
  ];
  for (const note of c.notes) out.push(`> ⚠️ Not like for like: ${md(note)}.`, '');
  if (n > 0) out.push(...c.regressions.map((r) => `- ${md(r)}`), '');
  for (const d of c.designs) {
    out.push(`#### ${md(d.name)}`, '');
    out.push(markdownTable(
      ['figure', 'baseline', 'current', 'change', 'limit'],
      [...d.figures, ...d.named].map((f) => [md(f.label), formatValue(f.baseline, f.unit), formatValue(f.current, f.unit), f.regression ? `**${md(f.changeText)}** ❌` : md(f.changeText), f.limitText ? md(f.limitText) : '']),
      ['l', 'r', 'r', 'r', 'l'],
    ), '');
  }
  if (c.onlyInBaseline.length > 0) out.push(`Only in the baseline: ${c.onlyInBaseline.map(md).join(', ')}`, '');
  if (c.onlyInCurrent.length > 0) out.push(`Only in the current run: ${c.onlyInCurrent.map(md).join(', ')}`, '');
  return out.join('\n');
}
