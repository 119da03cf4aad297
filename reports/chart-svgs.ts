import type { RunResult } from '../harness/result/result.ts';
import { chartSvg } from './charts/chart-svg.ts';
import { reportCharts } from './charts/report-charts.ts';
import type { ReportFile, ReportFormat } from './report-format.ts';

/** A file-name-safe form of a user-provided name: lower case letters, digits, `-` and `_`. */
export function slug(name: string): string {
  return name.toLowerCase().replace(/[^a-z0-9_-]+/g, '-').replace(/^-+|-+$/g, '').slice(0, 60) || 'design';
}

/** Distinct slugs for a list of names, in order (`a`, `a-2`, … when two names slug alike). */
export function uniqueSlugs(names: readonly string[]): string[] {
  const seen = new Set<string>();
  return names.map((n) => {
    const base = slug(n);
    let s = base;
    for (let i = 2; seen.has(s); i++) s = `${base}-${i}`;
    seen.add(s);
    return s;
  });
}

/** Each name's distinct slug (see `uniqueSlugs`). */
function slugMap(names: readonly string[]): Map<string, string> {
  const distinct = [...new Set(names)];
  return new Map(uniqueSlugs(distinct).map((s, i) => [distinct[i]!, s]));
}

/**
 * Every chart of the HTML report as its own SVG file, for pasting into a pull request:
 * `charts/<kind>.svg` for charts of the whole run, `charts/<kind>.<design>.svg` per design, and
 * `charts/<kind>.<name>.<design>.svg` for kinds drawn once per named distribution or gauge.
 */
export async function renderChartSvgs(result: RunResult): Promise<ReportFile[]> {
  const charts = reportCharts(result);
  const designs = slugMap(result.designs.map((d) => d.name));
  const metrics = slugMap(charts.flatMap((c) => (c.metric === undefined ? [] : [c.metric])));
  const files: ReportFile[] = [];
  for (const chart of charts) {
    const parts = [chart.kind, ...(chart.metric === undefined ? [] : [metrics.get(chart.metric)]), ...(chart.design === undefined ? [] : [designs.get(chart.design)])];
    files.push({ path: `charts/${parts.join('.')}.svg`, content: await chartSvg(chart.spec) });
  }
  return files;
}

/** `charts/*.svg`: each chart as a standalone SVG (PNG needs a canvas, which is not installed). */
export const chartSvgReport: ReportFormat = {
  describe: 'charts/*.svg: every chart as a standalone SVG',
  render: renderChartSvgs,
};
