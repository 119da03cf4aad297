import { faultSubject } from '../harness/result/result.ts';
import { formatLatency, formatValue } from '../harness/result/format.ts';
import type { DesignResult, FaultRecord, RunResult } from '../harness/result/result.ts';
import { designCharts, runDistribution } from './charts/report-charts.ts';
import { figureEntries } from './figures.ts';
import { escapeHtml } from './html/escape.ts';
import { ChartSlots, htmlPage } from './html/page.ts';
import { badge, facts, formatSpan, formatWhen, table } from './html/parts.ts';
import { checkRows, checkValueText, counterText, formatGauge, gaugeUnit, metricInfo, metricNames, rowExamples } from './named-metrics.ts';
import type { ReportFormat } from './report-format.ts';
import { resourceLine } from './resource-line.ts';
import { noiseLines, slaTrialText, trialLines } from './trials.ts';
import { designsNotRun, runVerdict, slaMatrix, thresholdText, windowText, type RunVerdict } from './verdict.ts';

/** Examples shown per checker count and design: every one a result may hold. */
const EXAMPLES_SHOWN = 10;

function designStatus(d: DesignResult): { status: RunVerdict['status']; text: string } {
  if (d.status === 'failed-to-start') return { status: 'fail', text: 'FAILED TO START' };
  if (d.status === 'interrupted') return { status: 'incomplete', text: 'INTERRUPTED' };
  if (d.status === 'harness-error') return { status: 'incomplete', text: 'HARNESS ERROR' };
  return d.passed ? { status: 'pass', text: 'PASS' } : { status: 'fail', text: 'FAIL' };
}

function designBadge(d: DesignResult): string {
  const st = designStatus(d);
  return badge(st.status, st.text) + (d.generatorBound ? ` ${badge('incomplete', 'GENERATOR-BOUND')}` : '');
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
<nav><a href="#sla">SLA</a><a href="#figures">Figures</a>${checkRows(result).length > 0 ? '<a href="#correctness">Correctness</a>' : ''}<a href="#distribution">Distribution</a>${result.designs.map((d, i) => `<a href="#design-${i + 1}">${escapeHtml(d.name)}</a>`).join('')}<a href="#environment">Environment</a><a href="#scenario">Scenario</a></nav>
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
      const trials = v.trials ? `<span class="window">${escapeHtml(slaTrialText(v))}</span>` : '';
      return `${badge(v.pass ? 'pass' : 'fail', v.pass ? 'PASS' : 'FAIL')}<span class="value">${escapeHtml(v.measuredText)}</span>${ownWindow}${trials}`;
    }),
  ]);
  const body = rows.length === 0 ? '<p class="muted">No SLA lines.</p>' : table(['SLA line', 'threshold', 'window', ...result.designs.map((d) => d.name)], rows, { className: 'matrix' });
  const noise = noiseLines(result);
  return `<section id="sla"><h2>SLA</h2>${body}${noise.length > 0 ? `<pre class="services">${escapeHtml(noise.join('\n'))}</pre>` : ''}</section>`;
}

function figuresSection(result: RunResult): string {
  const entries = figureEntries();
  const counters = metricNames(result, 'counter');
  const rows = result.designs.map((d, i) => [
    `<a href="#design-${i + 1}">${escapeHtml(d.name)}</a> ${designBadge(d)}`,
    ...entries.map(([, f]) => escapeHtml(formatValue(f.value(d), f.unit))),
    ...counters.map((n) => escapeHtml(counterText(result, d, n))),
  ]);
  const head = ['design', ...entries.map(([, f]) => f.label(result.scenario.wording)), ...counters];
  const note = `Over each design's measured window; latency of every ${escapeHtml(result.scenario.wording.one)}, from its intended send time.${counters.length > 0 ? ` Counters: ${counters.map((n) => describe(result, n)).join('; ')}.` : ''}`;
  return `<section id="figures"><h2>Figures</h2><p class="muted">${note}</p>${table(head, rows, { num: head.map((_, i) => i).slice(1) })}${distributionTable(result)}${gaugeTable(result)}</section>`;
}

/** A named metric for people: its name and, when declared, what it is. */
function describe(result: RunResult, name: string): string {
  const info = metricInfo(result, name);
  return `<code>${escapeHtml(name)}</code>${info ? ` ${escapeHtml(info.description)}` : ''}`;
}

function distributionTable(result: RunResult): string {
  const names = metricNames(result, 'distribution');
  if (names.length === 0) return '';
  const rows = names.flatMap((n) => result.designs.flatMap((d) => {
    const x = d.distributions[n];
    if (!x) return [];
    const figs = x.count > 0 ? [x.latencyUs.p50, x.latencyUs.p90, x.latencyUs.p99, x.latencyUs.p999, x.latencyUs.max].map((us) => escapeHtml(formatLatency(us))) : ['—', '—', '—', '—', '—'];
    return [[describe(result, n), escapeHtml(d.name), escapeHtml(String(x.count)), ...figs]];
  }));
  return `<h3>Distributions</h3>${table(['distribution', 'design', 'values', 'p50', 'p90', 'p99', 'p99.9', 'max'], rows, { num: [2, 3, 4, 5, 6, 7] })}`;
}

function gaugeTable(result: RunResult): string {
  const names = metricNames(result, 'gauge');
  if (names.length === 0) return '';
  const rows = names.flatMap((n) => result.designs.flatMap((d) => {
    const g = d.gauges[n];
    if (!g) return [];
    const unit = gaugeUnit(result, n);
    return [[describe(result, n), escapeHtml(d.name), escapeHtml(String(g.samples)), ...[g.min, g.mean, g.max, g.last].map((v) => escapeHtml(formatGauge(v, unit)))]];
  }));
  return `<h3>Gauges</h3><p class="muted">Sampled at the end of every measured second.</p>${table(['gauge', 'design', 'samples', 'min', 'mean', 'max', 'last'], rows, { num: [2, 3, 4, 5, 6] })}`;
}

/** The checker counts of every design and up to 10 examples each, when any design has one. */
function correctnessSection(result: RunResult): string {
  const rows = checkRows(result);
  if (rows.length === 0) return '';
  const several = result.designs.length > 1;
  const body = rows.map((row) => [
    describe(result, row.name),
    ...row.cells.map((c) => (c ? `<span class="value">${escapeHtml(checkValueText(c))}</span>` : '<span class="muted">not counted</span>')),
    rowExamples(result, row, EXAMPLES_SHOWN)
      .map((e) => `${several ? `<strong>${escapeHtml(e.design)}</strong>` : ''}<ul class="examples">${e.examples.map((x) => `<li><code>${escapeHtml(x)}</code></li>`).join('')}</ul>`)
      .join('') || '<span class="muted">none</span>',
  ]);
  return `<section id="correctness"><h2>Correctness</h2><p class="muted">What the checkers found over each design's history, after the drain.</p>${table(['count', ...result.designs.map((d) => d.name), 'examples'], body, { num: result.designs.map((_, i) => i + 1) })}</section>`;
}

function faultTable(faults: readonly FaultRecord[]): string {
  if (faults.length === 0) return '';
  const s = (ms: number | undefined) => (ms === undefined ? '—' : `${+(ms / 1000).toFixed(2)} s`);
  const rows = faults.map((f) => [
    escapeHtml(f.name),
    escapeHtml(f.kind),
    escapeHtml(faultSubject(f)),
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
  const load = `${l.model} model${l.targetRate === undefined ? '' : `, target ${l.targetRate}/s`}, ${l.connections} connections; sent ${l.sent}, late ${l.late} (> ${l.lateThresholdMs} ms, max lag ${l.maxDispatchLagMs} ms), dropped ${l.dropped}, answered after the window ${l.lateResponses}${d.generatorBound ? `; generator-bound: ${d.generatorBound.reason}` : ''}`;
  const drain = d.drain ? `; drain ${formatSpan(d.drain.ms)} of ${formatSpan(d.drain.deadlineMs)} allowed${d.drain.complete ? '' : ', not finished'}` : '';
  const client = [
    ...(d.entry ? [`entry: ${d.entry.endpoints.join(' ') || d.entry.protocol}`] : []),
    ...(d.client ? [`client: ${d.client.protocol} ${JSON.stringify(d.client.options)}`] : []),
    ...(d.historyFile ? [`history: ${d.historyFile}`] : []),
  ];
  const problem = d.status === 'completed'
    ? (d.error ? `<p class="banner">${escapeHtml(d.error)}</p>` : '')
    : `<p class="banner"><strong>${escapeHtml(st.text.toLowerCase())}</strong>${d.error ? `: ${escapeHtml(d.error)}` : ''}</p>`;
  const charts = designCharts(result, d);
  const cost = resourceLine(d, result.scenario.wording);
  const chartMarkup = charts.length === 0
    ? '<p class="muted">No measured seconds, so no charts.</p>'
    : `<div class="charts">${charts.map((c) => slots.figure(c, c.kind === 'latency-over-time' || c.kind === 'check-timeline')).join('')}</div>`;
  return `<section class="design" id="design-${index + 1}">
<h2>${escapeHtml(d.name)} <span class="muted">${escapeHtml(d.target)}</span> ${designBadge(d)}</h2>
${problem}
<p class="services">services: ${escapeHtml(services || 'none started')}</p>
${client.length > 0 ? `<p class="services">${escapeHtml(client.join('; '))}</p>\n` : ''}<p class="services">load: ${escapeHtml(load + drain)}</p>
${cost ? `<p class="services">${escapeHtml(cost)}</p>\n` : ''}${d.repeat ? `<pre class="services">${escapeHtml(trialLines(d).join('\n'))}</pre>\n` : ''}${faultTable(d.faults)}
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
    [`start to first ${result.scenario.wording.one}`, e.startToFirstRequestMs === undefined ? '—' : escapeHtml(formatSpan(e.startToFirstRequestMs))],
    ...(e.toxiproxy ? [['Toxiproxy', escapeHtml(e.toxiproxy)] as [string, string]] : []),
    ...(e.toxiproxyIdleCostUs
      ? [['an idle proxy adds', escapeHtml(`${formatLatency(e.toxiproxyIdleCostUs.p50)} at p50, ${formatLatency(e.toxiproxyIdleCostUs.p99)} at p99 to a round trip (${e.toxiproxyIdleCostUs.samples} round trips, before the first design)`)] as [string, string]]
      : []),
  ])}</section>`;
}

function scenarioSection(result: RunResult): string {
  const s = result.scenario;
  const withClient = Object.values(s.designs).some((d) => d.client !== undefined);
  const designs = Object.entries(s.designs).map(([name, d]) => [
    escapeHtml(name),
    escapeHtml(d.target),
    `<code>${escapeHtml(JSON.stringify(d.options))}</code>`,
    ...(withClient ? [d.client === undefined ? '' : `<code>${escapeHtml(JSON.stringify(d.client))}</code>`] : []),
  ]);
  return `<section id="scenario"><h2>Scenario as run</h2>
${facts([
    ['file', `<code>${escapeHtml(s.file)}</code>`],
    ['warm-up', escapeHtml(formatSpan(s.warmupMs))],
    ['measured window', escapeHtml(formatSpan(s.durationMs))],
    ['workload', escapeHtml(s.workloadKind)],
    ['SLA', s.sla.map((l) => `<code>${escapeHtml(l)}</code>`).join('<br>') || 'none'],
  ])}
<h3>Designs</h3>${table(['design', 'target', 'options', ...(withClient ? ['client'] : [])], designs)}
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
    correctnessSection(result),
    distribution,
    ...result.designs.map((d, i) => designSection(result, d, i, slots)),
    environmentSection(result),
    scenarioSection(result),
    `<footer>Rendered by faultline ${escapeHtml(result.environment.faultline)} from result.json (schema ${result.schemaVersion}). Latencies are measured from each ${escapeHtml(result.scenario.wording.one)}'s intended send time.</footer>`,
  ].join('\n');
  return htmlPage({ title: `${result.scenario.name} — faultline report`, body, charts: slots.placed });
}

/** `report.html`: the run's self-contained HTML report. */
export const htmlReport: ReportFormat = {
  describe: 'report.html: the self-contained HTML report (opens offline)',
  render: (result) => [{ path: 'report.html', content: renderHtmlReport(result) }],
};
