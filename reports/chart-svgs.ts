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

/**
 * Every chart of the HTML report as its own SVG file, for pasting into a pull request:
 * `charts/<kind>.svg` for charts of the whole run, `charts/<kind>.<design>.svg` per design.
 */
export async function renderChartSvgs(result: RunResult): Promise<ReportFile[]> {
  const names = result.designs.map((d) => d.name);
  const slugs = new Map(uniqueSlugs(names).map((s, i) => [names[i]!, s]));
  const files: ReportFile[] = [];
  for (const chart of reportCharts(result)) {
    const name = chart.design === undefined ? chart.kind : `${chart.kind}.${slugs.get(chart.design)}`;
    files.push({ path: `charts/${name}.svg`, content: await chartSvg(chart.spec) });
  }
  return files;
}

/** `charts/*.svg`: each chart as a standalone SVG (PNG needs a canvas, which is not installed). */
export const chartSvgReport: ReportFormat = {
  describe: 'charts/*.svg: every chart as a standalone SVG',
  render: renderChartSvgs,
};
