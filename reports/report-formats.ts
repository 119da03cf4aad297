import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, join, relative } from 'node:path';
import type { RunResult } from '../harness/result/result.ts';
import { chartSvgReport } from './chart-svgs.ts';
import { htmlReport } from './html-report.ts';
import { junitReport } from './junit-report.ts';
import { markdownReport } from './markdown-report.ts';
import type { ReportFormat } from './report-format.ts';
import { writeRunIndex } from './run-index.ts';

/** Every report format faultline writes next to result.json. Adding one: its file, its test, one line here, one README row. */
export const reportFormats = {
  html: htmlReport,
  junit: junitReport,
  markdown: markdownReport,
  svg: chartSvgReport,
} satisfies Record<string, ReportFormat>;

/** Names of the report formats. */
export type ReportFormatName = keyof typeof reportFormats;

/** What `writeReports` did: the files each format wrote, the index it updated, and what failed (with why). */
export interface ReportsWritten {
  files: Partial<Record<ReportFormatName, string[]>>;
  index?: string;
  failures: { format: ReportFormatName | 'index'; error: string }[];
}

export interface WriteReportsOptions {
  /** Where the step summary is looked up (`GITHUB_STEP_SUMMARY`); default `process.env`. */
  env?: Readonly<Record<string, string | undefined>>;
  /** A folder of runs whose `index.html` to rewrite afterwards (see `writeRunIndex`). */
  indexFolder?: string;
}

const message = (err: unknown) => (err instanceof Error ? err.message : String(err));

/**
 * Renders every report format of a result into `outDir` and publishes those that publish (the
 * step summary). A format that fails is recorded in `failures` and the others still run: a
 * broken reporter never costs the run its other reports.
 */
export async function writeReports(result: RunResult, outDir: string, opts: WriteReportsOptions = {}): Promise<ReportsWritten> {
  const written: ReportsWritten = { files: {}, failures: [] };
  const formats = Object.entries(reportFormats) as [ReportFormatName, ReportFormat][];
  for (const [name, format] of formats) {
    try {
      const files = await format.render(result);
      const paths: string[] = [];
      for (const f of files) {
        const path = join(outDir, ...f.path.split('/'));
        await mkdir(dirname(path), { recursive: true });
        await writeFile(path, f.content);
        paths.push(path);
      }
      written.files[name] = paths;
      await format.publish?.(files, opts.env ?? process.env);
    } catch (err) {
      written.failures.push({ format: name, error: message(err) });
    }
  }
  if (opts.indexFolder !== undefined) {
    try {
      written.index = (await writeRunIndex(opts.indexFolder)).path;
    } catch (err) {
      written.failures.push({ format: 'index', error: message(err) });
    }
  }
  return written;
}

/** What `writeReports` did, for a terminal: the HTML report's path first (stdout) and any failure (stderr). */
export function reportsSummary(written: ReportsWritten, cwd: string): { stdout: string; stderr: string } {
  const show = (p: string) => relative(cwd, p) || p;
  const { html, svg, ...others } = written.files;
  const lines = html?.[0] ? [`report: ${show(html[0])}`] : [];
  const also = [...Object.values(others).flat().map(show), ...(svg?.[0] ? [`${svg.length} SVG charts in ${show(dirname(svg[0]))}`] : [])];
  if (also.length > 0) lines.push(`also: ${also.join(', ')}`);
  if (written.index) lines.push(`index: ${show(written.index)}`);
  return {
    stdout: lines.map((l) => `${l}\n`).join(''),
    stderr: written.failures.map((f) => `warning: the ${f.format} report failed: ${f.error}\n`).join(''),
  };
}
