import { faultSubject } from '../harness/result/result.ts';
import type { DesignResult, RunResult, SecondStats, Wording } from '../harness/result/result.ts';
import { formatLatency } from '../harness/result/format.ts';
import { checkValueText, counterText, formatGauge, gaugeUnit, metricNames } from './named-metrics.ts';
import { resourceLine } from './resource-line.ts';
import { noiseLines, slaTrialText, trialLines } from './trials.ts';
import { runVerdict } from './verdict.ts';

/** How many of a checker count's examples the terminal shows. */
const TERMINAL_EXAMPLES = 3;

/**
 * The live line for one measured second: rate, p50, p99 and errors, or, when none of the
 * workload's operations completed in it, that none did (`no requests completed`).
 */
export function liveLine(design: string, row: SecondStats, windowSeconds: number, wording: Wording): string {
  const errors = row.errors === 0 ? '0 errors' : `${row.errors} errors (${Object.entries(row.errorsByKind).map(([k, n]) => `${k} ${n}`).join(', ')})`;
  const latency = row.ops === 0 ? `no ${wording.many} completed` : `p50 ${formatLatency(row.latencyUs.p50)}  p99 ${formatLatency(row.latencyUs.p99)}`;
  const faults = row.faults?.length ? `  fault: ${row.faults.join(', ')}` : '';
  return `${design} ${String(row.second + 1).padStart(3)}/${windowSeconds}s  ${Math.round(row.throughput)} ok/s  ${latency}  ${errors}${faults}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

const byName = ([a]: [string, number], [b]: [string, number]) => a.localeCompare(b, 'en', { numeric: true });

/** One tally as `k n (x%), …`; `served_by` reads as the wording's plural by responder (`requests by responder`). */
function tallyLine(name: string, counts: Record<string, number>, result: RunResult): string | undefined {
  const entries = Object.entries(counts).sort(byName);
  const all = entries.reduce((n, [, c]) => n + c, 0);
  const shares = entries.map(([k, n]) => `${k} ${n} (${Math.round((n / all) * 100)}%)`).join(', ');
  if (name !== 'served_by') return `${name}: ${shares}`;
  if (entries.length <= 1) return undefined;
  return `${result.scenario.wording.many} by responder${result.scenario.workloadKind === 'http' ? ' (x-served-by)' : ''}: ${shares}`;
}

/** The named metrics of a design, a line each: counters, tallies, distributions (p50/p99), gauges (max), checker counts with their first examples. */
function namedLines(result: RunResult, d: DesignResult): string[] {
  const lines: string[] = [];
  const counters = metricNames(result, 'counter', [d]);
  if (counters.length > 0) lines.push(`counters: ${counters.map((n) => `${n} ${counterText(result, d, n)}`).join(', ')}`);
  for (const n of metricNames(result, 'tally', [d])) {
    const line = tallyLine(n, d.tallies[n]!, result);
    if (line) lines.push(line);
  }
  for (const n of metricNames(result, 'distribution', [d])) {
    const x = d.distributions[n]!;
    lines.push(`${n}: ${x.count > 0 ? `p50 ${formatLatency(x.latencyUs.p50)}, p99 ${formatLatency(x.latencyUs.p99)}, max ${formatLatency(x.latencyUs.max)} (${x.count} values)` : 'no values'}`);
  }
  for (const n of metricNames(result, 'gauge', [d])) {
    const g = d.gauges[n]!;
    const unit = gaugeUnit(result, n);
    lines.push(`${n}: max ${formatGauge(g.max, unit)}, last ${formatGauge(g.last, unit)}`);
  }
  for (const n of metricNames(result, 'check', [d])) {
    const c = d.checks[n]!;
    const shown = c.examples.slice(0, TERMINAL_EXAMPLES);
    const more = c.examples.length > shown.length ? `; … ${c.examples.length - shown.length} more` : '';
    lines.push(`check ${n}: ${checkValueText(c)}${shown.length > 0 ? ` (e.g. ${shown.join('; ')}${more})` : ''}`);
  }
  return lines;
}

function designBlock(result: RunResult, d: DesignResult, color: boolean): string {
  const paint = (ok: boolean, text: string) => (color ? `\x1b[${ok ? 32 : 31}m${text}\x1b[0m` : text);
  const t = d.totals;
  const lines = [`${d.name} (${d.target})${d.status === 'completed' ? '' : ` — ${d.status}${d.error ? `: ${d.error}` : ''}`}`];
  if (d.status === 'completed' && d.error) lines.push(`  after the window: ${d.error}`);
  lines.push(table([
    [result.scenario.wording.many, 'ok/s', 'errors', 'p50', 'p90', 'p99', 'p99.9', 'max'],
    [String(t.ops), String(Math.round(t.throughput)), String(t.errors), ...[t.latencyUs.p50, t.latencyUs.p90, t.latencyUs.p99, t.latencyUs.p999, t.latencyUs.max].map(formatLatency)],
  ]).replace(/^/gm, '  '));
  const l = d.load;
  if (d.generatorBound) lines.push(`  ${paint(false, 'GENERATOR-BOUND')}: ${d.generatorBound.reason}; this verdict may be about the load generator, not the design`);
  if (l.model === 'open' && (l.late > 0 || l.dropped > 0)) {
    lines.push(`  load generator fell behind: ${l.late} of ${l.sent} sends late by > ${l.lateThresholdMs} ms (max ${l.maxDispatchLagMs} ms), ${l.dropped} dropped`);
  }
  const kinds = Object.entries(t.errorsByKind);
  if (kinds.length > 0) lines.push(`  errors by kind: ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const cost = resourceLine(d, result.scenario.wording);
  if (cost) lines.push(`  ${cost}`);
  lines.push(...namedLines(result, d).map((line) => `  ${line}`));
  if (d.drain && !d.drain.complete) lines.push(`  drain did not finish: stopped at its ${d.drain.deadlineMs} ms deadline`);
  for (const f of d.faults) {
    const when = f.appliedAtMs === undefined ? 'not applied' : `${(f.appliedAtMs / 1000).toFixed(1)}s–${f.removedAtMs === undefined ? 'end' : `${(f.removedAtMs / 1000).toFixed(1)}s`}`;
    lines.push(`  fault ${f.name}: ${f.kind} on ${faultSubject(f)}, ${when}${f.error ? ` (${f.error})` : ''}`);
  }
  lines.push(...trialLines(d).map((line) => `  ${line}`));
  for (const v of d.sla) lines.push(`  ${paint(v.pass, v.pass ? 'PASS' : 'FAIL')}  ${v.line.padEnd(28)} measured ${v.measuredText}${v.trials ? ` (${slaTrialText(v)})` : ''}`);
  return lines.join('\n');
}

/** The end-of-run summary: a block per design (figures in the workload's wording, named metrics, every SLA line marked), and the verdict. */
export function summary(result: RunResult, opts: { color?: boolean } = {}): string {
  const color = opts.color ?? false;
  const blocks = result.designs.map((d) => designBlock(result, d, color));
  const idle = result.environment.toxiproxyIdleCostUs;
  const proxyCost = idle ? `an idle Toxiproxy proxy adds ${formatLatency(idle.p50)} at p50, ${formatLatency(idle.p99)} at p99 to a round trip on this machine\n\n` : '';
  const noise = noiseLines(result);
  const between = noise.length > 0 ? `${noise.join('\n')}\n\n` : '';
  return `\n${result.scenario.name}: ${result.scenario.description}\n\n${blocks.join('\n\n')}\n\n${between}${proxyCost}${runVerdict(result).text}\n`;
}
