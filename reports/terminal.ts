import type { DesignResult, RunResult, SecondStats } from '../harness/result/result.ts';
import { formatLatency } from '../harness/result/format.ts';
import { runVerdict } from './verdict.ts';

/** The live line for one measured second: rate, p50, p99, errors. */
export function liveLine(design: string, row: SecondStats, windowSeconds: number): string {
  const errors = row.errors === 0 ? '0 errors' : `${row.errors} errors (${Object.entries(row.errorsByKind).map(([k, n]) => `${k} ${n}`).join(', ')})`;
  const faults = row.faults?.length ? `  fault: ${row.faults.join(', ')}` : '';
  return `${design} ${String(row.second + 1).padStart(3)}/${windowSeconds}s  ${Math.round(row.throughput)} ok/s  p50 ${formatLatency(row.latencyUs.p50)}  p99 ${formatLatency(row.latencyUs.p99)}  ${errors}${faults}`;
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((r) => r[c]!.length)));
  return rows.map((r) => r.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  ').trimEnd()).join('\n');
}

function designBlock(d: DesignResult, color: boolean): string {
  const paint = (ok: boolean, text: string) => (color ? `\x1b[${ok ? 32 : 31}m${text}\x1b[0m` : text);
  const t = d.totals;
  const lines = [`${d.name} (${d.target})${d.status === 'completed' ? '' : ` — ${d.status}${d.error ? `: ${d.error}` : ''}`}`];
  lines.push(table([
    ['requests', 'ok/s', 'errors', 'p50', 'p90', 'p99', 'p99.9', 'max'],
    [String(t.requests), String(Math.round(t.throughput)), String(t.errors), ...[t.latencyUs.p50, t.latencyUs.p90, t.latencyUs.p99, t.latencyUs.p999, t.latencyUs.max].map(formatLatency)],
  ]).replace(/^/gm, '  '));
  const l = d.load;
  if (l.model === 'open' && (l.late > 0 || l.dropped > 0)) {
    lines.push(`  load generator fell behind: ${l.late} of ${l.sent} sends late by > ${l.lateThresholdMs} ms (max ${l.maxDispatchLagMs} ms), ${l.dropped} dropped`);
  }
  const kinds = Object.entries(t.errorsByKind);
  if (kinds.length > 0) lines.push(`  errors by kind: ${kinds.map(([k, n]) => `${k} ${n}`).join(', ')}`);
  const served = Object.entries(d.servedBy).sort(([a], [b]) => a.localeCompare(b, 'en', { numeric: true }));
  const answered = served.reduce((n, [, c]) => n + c, 0);
  if (served.length > 1) lines.push(`  requests by responder (x-served-by): ${served.map(([k, n]) => `${k} ${n} (${Math.round((n / answered) * 100)}%)`).join(', ')}`);
  for (const f of d.faults) {
    const when = f.appliedAtMs === undefined ? 'not applied' : `${(f.appliedAtMs / 1000).toFixed(1)}s–${f.removedAtMs === undefined ? 'end' : `${(f.removedAtMs / 1000).toFixed(1)}s`}`;
    lines.push(`  fault ${f.name}: ${f.kind} on ${f.link ?? f.service}, ${when}${f.error ? ` (${f.error})` : ''}`);
  }
  for (const v of d.sla) lines.push(`  ${paint(v.pass, v.pass ? 'PASS' : 'FAIL')}  ${v.line.padEnd(28)} measured ${v.measuredText}`);
  return lines.join('\n');
}

/** The end-of-run summary: a block per design with every SLA line marked, and the verdict. */
export function summary(result: RunResult, opts: { color?: boolean } = {}): string {
  const color = opts.color ?? false;
  const blocks = result.designs.map((d) => designBlock(d, color));
  return `\n${result.scenario.name}: ${result.scenario.description}\n\n${blocks.join('\n\n')}\n\n${runVerdict(result).text}\n`;
}
