import { formatValue } from '../harness/result/format.ts';
import type { RunResult, SlaVerdict } from '../harness/result/result.ts';
import { percentileDistribution } from './charts/percentile-distribution.ts';
import { describeThresholds, type Comparison, type DesignComparison } from './compare.ts';
import { escapeHtml } from './html/escape.ts';
import { ChartSlots, htmlPage } from './html/page.ts';
import { badge, facts, formatWhen, table } from './html/parts.ts';
import { runVerdict } from './verdict.ts';

function runFacts(label: string, r: RunResult): [string, string] {
  const v = runVerdict(r);
  return [label, `${escapeHtml(r.scenario.name)}, ${escapeHtml(formatWhen(r.startedAt))} ${badge(v.status, v.status.toUpperCase())}`];
}

function verdictCell(v: SlaVerdict | undefined): string {
  return v ? `${badge(v.pass ? 'pass' : 'fail', v.pass ? 'PASS' : 'FAIL')} ${escapeHtml(v.measuredText)}` : '<span class="muted">—</span>';
}

function designSection(d: DesignComparison, index: number, slots: ChartSlots): string {
  const figures = [...d.figures, ...d.named].map((f) => [
    escapeHtml(f.label),
    escapeHtml(formatValue(f.baseline, f.unit)),
    escapeHtml(formatValue(f.current, f.unit)),
    f.regression ? `<span class="regression">${escapeHtml(f.changeText)}</span>` : escapeHtml(f.changeText),
    f.limitText ? escapeHtml(f.limitText) : '<span class="muted">not judged</span>',
  ]);
  const sla = d.sla.map((s) => [`<code>${escapeHtml(s.line)}</code>`, verdictCell(s.baseline), verdictCell(s.current), s.regression ? '<span class="regression">regressed</span>' : '']);
  const distribution = percentileDistribution([{ name: `${d.name} (baseline)`, histogram: d.baseline.totals.histogram }, { name: `${d.name} (current)`, histogram: d.current.totals.histogram }]);
  const status = d.regressions.length > 0 ? badge('fail', `${d.regressions.length} REGRESSION${d.regressions.length > 1 ? 'S' : ''}`) : badge('pass', 'NO REGRESSION');
  return `<section class="design" id="design-${index + 1}">
<h2>${escapeHtml(d.name)} <span class="muted">${escapeHtml(d.current.target)}</span> ${status}</h2>
${d.regressions.length > 0 ? `<ul>${d.regressions.map((r) => `<li class="regression">${escapeHtml(r)}</li>`).join('')}</ul>` : ''}
${table(['figure', 'baseline', 'current', 'change', 'limit'], figures, { num: [1, 2, 3] })}
${sla.length > 0 ? `<h3>SLA</h3>${table(['SLA line', 'baseline', 'current', ''], sla)}` : ''}
<div class="charts">${slots.figure({ kind: 'percentile-distribution', title: 'Latency distribution, baseline and current', design: d.name, spec: distribution }, true)}</div>
</section>`;
}

/** The comparison of two runs as one self-contained HTML page. */
export function renderCompareHtml(c: Comparison): string {
  const slots = new ChartSlots();
  const n = c.regressions.length;
  const lists = [
    c.onlyInBaseline.length > 0 ? `<p>Only in the baseline (not compared): ${c.onlyInBaseline.map(escapeHtml).join(', ')}</p>` : '',
    c.onlyInCurrent.length > 0 ? `<p>Only in the current run (not compared): ${c.onlyInCurrent.map(escapeHtml).join(', ')}</p>` : '',
  ].join('');
  const body = `<header>
<p class="kicker">faultline comparison</p>
<h1>${escapeHtml(c.current.scenario.name)}</h1>
<p class="description">${escapeHtml(c.current.scenario.description)}</p>
<div class="verdict ${n > 0 ? 'fail' : 'pass'}">${n > 0 ? `REGRESSION: ${n} figure${n > 1 ? 's' : ''} moved beyond ${n > 1 ? 'their' : 'its'} threshold` : 'NO REGRESSION'}</div>
${c.notes.map((note) => `<p class="banner">Not like for like: ${escapeHtml(note)}.</p>`).join('')}
${facts([
    runFacts('baseline', c.baseline),
    runFacts('current', c.current),
    ['thresholds', escapeHtml(describeThresholds(c.thresholds))],
  ])}
${lists}
</header>
${c.designs.map((d, i) => designSection(d, i, slots)).join('\n')}
<footer>Designs are matched by name. Rendered by faultline from two result.json files.</footer>`;
  return htmlPage({ title: `${c.current.scenario.name} — faultline comparison`, body, charts: slots.placed });
}
