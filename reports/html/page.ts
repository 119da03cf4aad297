import { createHash } from 'node:crypto';
import type { Chart, LayeredSpec } from '../charts/chart.ts';
import { escapeHtml, jsonForScript } from './escape.ts';
import { pageStyle } from './page-style.ts';
import { vegaLibraries } from './vega-libraries.ts';

/** A chart placed on a page: the id of its container element and its spec. */
export interface PlacedChart {
  id: string;
  spec: LayeredSpec;
}

/** Collects the charts of a page and hands out their container ids. */
export class ChartSlots {
  readonly placed: PlacedChart[] = [];

  /** The figure markup for a chart, and the chart queued for drawing into it. */
  figure(chart: Chart, wide = false): string {
    const id = `chart-${this.placed.length + 1}`;
    this.placed.push({ id, spec: chart.spec });
    const design = chart.design === undefined ? '' : ` data-design="${escapeHtml(chart.design)}"`;
    const metric = chart.metric === undefined ? '' : ` data-metric="${escapeHtml(chart.metric)}"`;
    return `<figure class="chart${wide ? ' wide' : ''}" data-chart-kind="${escapeHtml(chart.kind)}"${design}${metric}><figcaption>${escapeHtml(chart.title)}</figcaption><div class="plot" id="${id}"></div></figure>`;
  }
}

export interface PageOptions {
  /** The document title (escaped here). */
  title: string;
  /** The page's body markup, already escaped by its author. */
  body: string;
  /** Charts to draw into the elements with these ids; Vega is inlined only when there are some. */
  charts?: readonly PlacedChart[];
}

// Draws every chart once. The page exposes its progress as data-charts on <html> ("ready" or
// "failed") so a reader, a test or a screenshot can wait for it. Colours for dark mode and print
// come from the page's CSS, which overrides the SVG's presentation attributes, so the charts
// never need drawing again when the colour scheme changes.
const drawCharts = `(() => {
  const root = document.documentElement;
  const charts = JSON.parse(document.getElementById('faultline-charts').textContent);
  Promise.all(charts.map((c) => vegaEmbed(document.getElementById(c.id), c.spec, { mode: 'vega-lite', actions: false, renderer: 'svg' })))
    .then(() => { root.dataset.charts = 'ready'; }, (err) => { root.dataset.charts = 'failed'; console.error(err); });
})();`;

function sha256(text: string): string {
  return `'sha256-${createHash('sha256').update(text).digest('base64')}'`;
}

/**
 * One self-contained HTML document: styles, scripts and data inline, nothing fetched, so it
 * opens from disk offline. A Content-Security-Policy allows only the page's own scripts (by
 * hash; Vega compiles its expressions, hence 'unsafe-eval') and no network at all, so even a
 * string that escaped its escaping could not run or load anything.
 */
export function htmlPage(opts: PageOptions): string {
  const charts = opts.charts ?? [];
  const scripts = charts.length === 0 ? [] : [...vegaLibraries(), drawCharts];
  const csp = [
    "default-src 'none'",
    `script-src ${scripts.length === 0 ? "'none'" : `${scripts.map(sha256).join(' ')} 'unsafe-eval'`}`,
    "style-src 'unsafe-inline'",
    'img-src data:',
  ].join('; ');
  const data = charts.length === 0 ? '' : `<script type="application/json" id="faultline-charts">${jsonForScript(charts)}</script>\n`;
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="${csp}">
<meta name="color-scheme" content="light dark">
<title>${escapeHtml(opts.title)}</title>
<style>${pageStyle}</style>
</head>
<body>
${opts.body}
${data}${scripts.map((s) => `<script>${s}</script>`).join('\n')}
</body>
</html>
`;
}
