import { existsSync } from 'node:fs';
import { readdir, readFile, writeFile } from 'node:fs/promises';
import { dirname, join, relative, sep } from 'node:path';
import type { RunResult } from '../harness/result/result.ts';
import { upgradeResult } from '../harness/result/upgrade-result.ts';
import { escapeHtml } from './html/escape.ts';
import { htmlPage } from './html/page.ts';
import { badge, formatWhen, table } from './html/parts.ts';
import { runVerdict, type RunVerdict } from './verdict.ts';

/** One run listed in an index. */
export interface IndexEntry {
  /** Link to the run's report (or its result.json when it has no report), relative to the index. */
  href: string;
  scenario: string;
  description: string;
  startedAt: string;
  designs: string[];
  verdict: RunVerdict;
}

/** How deep below the indexed folder result.json files are looked for (`results/<scenario>/<time>/result.json` is 3). */
const MAX_DEPTH = 3;

async function findResults(dir: string, depth: number): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true }).catch(() => []);
  const found = entries.some((e) => e.isFile() && e.name === 'result.json') ? [join(dir, 'result.json')] : [];
  if (depth >= MAX_DEPTH) return found;
  const subdirs = entries.filter((e) => e.isDirectory() && !e.name.startsWith('.') && e.name !== 'node_modules' && e.name !== 'logs');
  for (const e of subdirs) found.push(...(await findResults(join(dir, e.name), depth + 1)));
  return found;
}

/** Every result.json in a folder and the folders below it (to `results/<scenario>/<time>/`). */
export function findResultFiles(folder: string): Promise<string[]> {
  return findResults(folder, 1);
}

/** The runs held in a folder (newest first); files that are not results this faultline can read are skipped. */
export async function indexEntries(folder: string): Promise<IndexEntry[]> {
  const entries: IndexEntry[] = [];
  for (const file of await findResultFiles(folder)) {
    let r: RunResult;
    try {
      r = upgradeResult(JSON.parse(await readFile(file, 'utf8')), file);
    } catch {
      continue;
    }
    const report = join(dirname(file), 'report.html');
    entries.push({
      href: relative(folder, existsSync(report) ? report : file).split(sep).join('/'),
      scenario: r.scenario.name,
      description: r.scenario.description,
      startedAt: r.startedAt,
      designs: r.designs.map((d) => d.name),
      verdict: runVerdict(r),
    });
  }
  return entries.sort((a, b) => b.startedAt.localeCompare(a.startedAt));
}

/** The index page of a folder of runs: scenario, time, verdict and a link to each run's report. */
export function renderRunIndex(title: string, entries: readonly IndexEntry[]): string {
  const rows = entries.map((e) => [
    `<a href="${escapeHtml(encodeURI(e.href))}">${escapeHtml(formatWhen(e.startedAt))}</a>`,
    `<strong>${escapeHtml(e.scenario)}</strong><br><span class="muted">${escapeHtml(e.description)}</span>`,
    escapeHtml(e.designs.join(', ')),
    badge(e.verdict.status, e.verdict.status.toUpperCase()),
  ]);
  const body = `<header><p class="kicker">faultline runs</p><h1>${escapeHtml(title)}</h1><p class="description">${entries.length} run${entries.length === 1 ? '' : 's'}, newest first.</p></header>
${entries.length > 0 ? table(['started', 'scenario', 'designs', 'verdict'], rows) : '<p class="muted">No result.json found.</p>'}`;
  return htmlPage({ title: `${title} — faultline runs`, body });
}

/** Writes `<folder>/index.html` listing every run below it; returns its path and how many runs it lists. */
export async function writeRunIndex(folder: string): Promise<{ path: string; runs: number }> {
  const entries = await indexEntries(folder);
  const path = join(folder, 'index.html');
  await writeFile(path, renderRunIndex(folder.split(sep).filter(Boolean).pop() ?? folder, entries));
  return { path, runs: entries.length };
}
