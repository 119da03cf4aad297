import { formatValue } from '../harness/result/format.ts';
import type { DesignResult, FaultRecord, RunResult } from '../harness/result/result.ts';
import { designCharts, runDistribution } from './charts/report-charts.ts';
import { figureEntries } from './figures.ts';
import { escapeHtml } from './html/escape.ts';
import { ChartSlots, htmlPage } from './html/page.ts';
import { badge, facts, formatSpan, formatWhen, table } from './html/parts.ts';
import type { ReportFormat } from './report-format.ts';
import { designsNotRun, runVerdict, slaMatrix, thresholdText, windowText, type RunVerdict } from './verdict.ts';

function designStatus(d: DesignResult): { status: RunVerdict['status']; text: string } {
  if (d.status === 'failed-to-start') return { status: 'fail', text: 'FAILED TO START' };
  if (d.status === 'interrupted') return { status: 'incomplete', text: 'INTERRUPTED' };
  return d.passed ? { status: 'pass', text: 'PASS' } : { status: 'fail', text: 'FAIL' };
}

function designBadge(d: DesignResult): string {
  const st = designStatus(d);
  return badge(st.status, st.text);
}

function header(result: RunResult): string {
  const verdict = runVerdict(result);
  const spanMs = Date.parse(result.finishedAt) - Date.parse(result.startedAt);
  const notRun = designsNotRun(result);
  const banner = result.complete
    ? ''
    : `<p class="banner"><strong>Incomplete run.</strong> It was cut short${notRun.length > 0 ? `; not run: ${notRun.map(escapeHtml).join(', ')}` : ''}. The figures and charts cover only what was measured before it stopped.</p>`;
  return `<header>
<p class="kicker">faultline report</p>
<h1>${escapeHtml(result.scenario.name)}</h1>
<p class="description">${escapeHtml(result.scenario.description)}</p>
<div class="verdict ${verdict.status}">${escapeHtml(verdict.text)}</div>
${banner}
${facts([
    ['started', escapeHtml(formatWhen(result.startedAt))],
    ['run time', Number.isFinite(spanMs) ? escapeHtml(formatSpan(spanMs)) : '—'],
    ['each design', escapeHtml(`warm-up ${formatSpan(result.scenario.warmupMs)}, measured ${formatSpan(result.scenario.durationMs)}`)],
    ['designs', escapeHtml(result.designs.map((d) => d.name).join(', ') || 'none')],
    ['runtime', escapeHtml(result.environment.runtime)],
  ])}
<nav><a href="#sla">SLA</a><a href="#figures">Figures</a><a href="#distribution">Distribution</a>${result.designs.map((d, i) => `<a href="#design-${i + 1}">${escapeHtml(d.name)}</a>`).join('')}<a href="#environment">Environment</a><a href="#scenario">Scenario</a></nav>
</header>`;
}

function slaSection(result: RunResult): string {
  const rows = slaMatrix(result).map((row) => [
    `<code>${escapeHtml(row.line)}</code>`,
    escapeHtml(thresholdText(row.example)),
    escapeHtml(windowText(row.example)),
    ...row.cells.map((v) => {
      if (!v) return '<span class="muted">not judged</span>';
      const ownWindow = windowText(v) === windowText(row.example) ? '' : `<span class="window">${escapeHtml(windowText(v))}</span>`;
      return `${badge(v.pass ? 'pass' : 'fail', v.pass ? 'PASS' : 'FAIL')}<span class="value">${escapeHtml(v.measuredText)}</span>${ownWindow}`;
    }),
  ]);
  const body = rows.length === 0 ? '<p class="muted">No SLA lines.</p>' : table(['SLA line', 'threshold', 'window', ...result.designs.map((d) => d.name)], rows, { className: 'matrix' });
  return `<section id="sla"><h2>SLA</h2>${body}</section>`;
}

function figuresSection(result: RunResult): string {
  const entries = figureEntries();
  const rows = result.designs.map((d, i) => [
    `<a href="#design-${i + 1}">${escapeHtml(d.name)}</a> ${designBadge(d)}`,
    ...entries.map(([, f]) => escapeHtml(formatValue(f.value(d), f.unit))),
  ]);
  return `<section id="figures"><h2>Figures</h2><p class="muted">Over each design's measured window; latency of every response, from its intended send time.</p>${table(['design', ...entries.map(([, f]) => f.label)], rows, { num: entries.map((_, i) => i + 1) })}</section>`;
}

function faultTable(faults: readonly FaultRecord[]): string {
  if (faults.length === 0) return '';
  const s = (ms: number | undefined) => (ms === undefined ? '—' : `${+(ms / 1000).toFixed(2)} s`);
  const rows = faults.map((f) => [
    escapeHtml(f.name),
    escapeHtml(f.kind),
    escapeHtml(f.link ?? f.service ?? ''),
    escapeHtml(`${s(f.atMs)}${f.forMs === undefined ? ' → end' : ` for ${s(f.forMs)}`}`),
    escapeHtml(s(f.appliedAtMs)),
    escapeHtml(s(f.removedAtMs)),
    f.error ? `<span class="regression">${escapeHtml(f.error)}</span>` : '',
  ]);
  return `<h3>Faults</h3>${table(['fault', 'kind', 'on', 'planned', 'applied at', 'removed at', 'error'], rows)}`;
}

function designSection(result: RunResult, d: DesignResult, index: number, slots: ChartSlots): string {
  const st = designStatus(d);
  const services = d.services.map((s) => `${s.name} (${s.program} ${s.version}) ${Object.values(s.endpoints).join(' ')}`).join('; ');
  const l = d.load;
  const load = `${l.model} model${l.targetRate === undefined ? '' : `, target ${l.targetRate}/s`}, ${l.connections} connections; sent ${l.sent}, late ${l.late} (> ${l.lateThresholdMs} ms, max lag ${l.maxDispatchLagMs} ms), dropped ${l.dropped}, answered after the window ${l.lateResponses}`;
  const problem = d.status === 'completed' ? '' : `<p class="banner"><strong>${escapeHtml(st.text.toLowerCase())}</strong>${d.error ? `: ${escapeHtml(d.error)}` : ''}</p>`;
  const charts = designCharts(result, d);
  const chartMarkup = charts.length === 0
    ? '<p class="muted">No measured seconds, so no charts.</p>'
    : `<div class="charts">${charts.map((c) => slots.figure(c, c.kind === 'latency-over-time')).join('')}</div>`;
  return `<section class="design" id="design-${index + 1}">
<h2>${escapeHtml(d.name)} <span class="muted">${escapeHtml(d.target)}</span> ${designBadge(d)}</h2>
${problem}
<p class="services">services: ${escapeHtml(services || 'none started')}</p>
<p class="services">load: ${escapeHtml(load)}</p>
${faultTable(d.faults)}
${chartMarkup}
</section>`;
}

function environmentSection(result: RunResult): string {
  const e = result.environment;
  return `<section id="environment"><h2>Environment</h2>${facts([
    ['faultline', escapeHtml(e.faultline)],
    ['Node.js', escapeHtml(e.node)],
    ['operating system', escapeHtml(`${e.os} (${e.arch})`)],
    ['CPU', escapeHtml(`${e.cpus} × ${e.cpuModel}`)],
    ['memory', escapeHtml(`${+(e.memoryBytes / 2 ** 30).toFixed(1)} GiB`)],
    ['runtime', escapeHtml(`${e.runtime}: ${e.runtimeReason}`)],
    ['start to first request', e.startToFirstRequestMs === undefined ? '—' : escapeHtml(formatSpan(e.startToFirstRequestMs))],
  ])}</section>`;
}

function scenarioSection(result: RunResult): string {
  const s = result.scenario;
  const designs = Object.entries(s.designs).map(([name, d]) => [escapeHtml(name), escapeHtml(d.target), `<code>${escapeHtml(JSON.stringify(d.options))}</code>`]);
  return `<section id="scenario"><h2>Scenario as run</h2>
${facts([
    ['file', `<code>${escapeHtml(s.file)}</code>`],
    ['warm-up', escapeHtml(formatSpan(s.warmupMs))],
    ['measured window', escapeHtml(formatSpan(s.durationMs))],
    ['SLA', s.sla.map((l) => `<code>${escapeHtml(l)}</code>`).join('<br>') || 'none'],
  ])}
<h3>Designs</h3>${table(['design', 'target', 'options'], designs)}
<h3>Workload</h3><pre>${escapeHtml(JSON.stringify(s.workload, null, 2))}</pre>
<details><summary>The whole scenario as run (JSON)</summary><pre>${escapeHtml(JSON.stringify(s, null, 2))}</pre></details>
</section>`;
}

/** The HTML report of a run: one self-contained page (see `htmlPage`). Pure: the same result gives the same page. */
export function renderHtmlReport(result: RunResult): string {
  const slots = new ChartSlots();
  const distribution = `<section id="distribution"><h2>Latency distribution</h2><p class="muted">Every design's latency at each percentile, from its merged histogram; x is in "nines" (p90, p99, p99.9, p99.99 equally spaced).</p><div class="charts">${slots.figure(runDistribution(result), true)}</div></section>`;
  const body = [
    header(result),
    slaSection(result),
    figuresSection(result),
    distribution,
    ...result.designs.map((d, i) => designSection(result, d, i, slots)),
    environmentSection(result),
    scenarioSection(result),
    `<footer>Rendered by faultline ${escapeHtml(result.environment.faultline)} from result.json (schema ${result.schemaVersion}). Latencies are measured from each request's intended send time.</footer>`,
  ].join('\n');
  return htmlPage({ title: `${result.scenario.name} — faultline report`, body, charts: slots.placed });
}

/** `report.html`: the run's self-contained HTML report. */
export const htmlReport: ReportFormat = {
  describe: 'report.html: the self-contained HTML report (opens offline)',
  render: (result) => [{ path: 'report.html', content: renderHtmlReport(result) }],
};
