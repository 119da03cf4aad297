import type { RunVerdict } from '../verdict.ts';
import { escapeHtml } from './escape.ts';

/** An ISO time as `2025-11-22 05:51:03 UTC` (UTC, so the same result always renders the same page). */
export function formatWhen(iso: string): string {
  const d = new Date(iso);
  return Number.isNaN(d.getTime()) ? iso : `${d.toISOString().slice(0, 19).replace('T', ' ')} UTC`;
}

/** A span of milliseconds for people: `850 ms`, `14.2 s`, `3 min 05 s`. */
export function formatSpan(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)} ms`;
  if (ms < 60_000) return `${+(ms / 1000).toFixed(1)} s`;
  const s = Math.round(ms / 1000);
  return `${Math.floor(s / 60)} min ${String(s % 60).padStart(2, '0')} s`;
}

/** A small coloured label: `pass`, `fail` or `incomplete` styling, escaped text. */
export function badge(status: RunVerdict['status'], text: string): string {
  return `<span class="badge ${status}">${escapeHtml(text)}</span>`;
}

/** A definition list of label → value pairs; values are markup, already escaped by the caller. */
export function facts(pairs: readonly [string, string][]): string {
  return `<dl class="facts">${pairs.map(([k, v]) => `<div><dt>${escapeHtml(k)}</dt><dd>${v}</dd></div>`).join('')}</dl>`;
}

/** A table from a header row and body rows of cell markup; `num` columns are right-aligned. */
export function table(head: readonly string[], rows: readonly (readonly string[])[], opts: { num?: readonly number[]; className?: string } = {}): string {
  const cls = (i: number) => (opts.num?.includes(i) ? ' class="num"' : '');
  return `<div class="table-scroll"><table${opts.className ? ` class="${opts.className}"` : ''}><thead><tr>${head.map((h, i) => `<th${cls(i)}>${escapeHtml(h)}</th>`).join('')}</tr></thead><tbody>${rows
    .map((r) => `<tr>${r.map((c, i) => `<td${cls(i)}>${c}</td>`).join('')}</tr>`)
    .join('')}</tbody></table></div>`;
}
