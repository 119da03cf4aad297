import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reportCharts } from './charts/report-charts.ts';
import { renderHtmlReport } from './html-report.ts';
import { fixture, hostile, partial, XSS } from './testing/fixtures.ts';

/** The page without its script elements: what the browser parses as markup. */
function markupOf(html: string): string {
  return html.replace(/<script[^>]*>[\s\S]*?<\/script>/g, '');
}

function scripts(html: string): { attrs: string; body: string }[] {
  return [...html.matchAll(/<script([^>]*)>([\s\S]*?)<\/script>/g)].map((m) => ({ attrs: m[1]!, body: m[2]! }));
}

describe('report.html', () => {
  it('is one self-contained file: Vega inlined, the charts as embedded data, nothing to fetch', () => {
    const html = renderHtmlReport(fixture());
    const markup = markupOf(html);
    expect(markup).not.toMatch(/\s(src|href)="(?!#)/i);
    expect(markup).not.toMatch(/@import|url\(/);
    const all = scripts(html);
    expect(all).toHaveLength(5);
    const data = JSON.parse(all[0]!.body) as unknown[];
    expect(all[0]!.attrs).toBe(' type="application/json" id="faultline-charts"');
    expect(data).toHaveLength(reportCharts(fixture()).length);
    expect(all[1]!.body).toMatch(/\.vega=\{\}/);
  });

  it('allows only its own scripts, by hash, and no network', () => {
    const html = renderHtmlReport(fixture());
    const csp = /<meta http-equiv="Content-Security-Policy" content="([^"]+)">/.exec(html)![1]!;
    expect(csp).toMatch(/default-src 'none'/);
    for (const s of scripts(html).slice(1)) {
      expect(csp).toContain(`'sha256-${createHash('sha256').update(s.body).digest('base64')}'`);
    }
    expect(csp).not.toMatch(/script-src[^;]*'unsafe-inline'/);
  });

  it("shows the header, every design's SLA verdicts and the environment", () => {
    const result = fixture();
    const html = renderHtmlReport(result);
    expect(html).toContain('<h1>cluster-vs-single</h1>');
    expect(html).toContain('<div class="verdict fail">FAIL: single missed the SLA</div>');
    expect(html).toContain('<span class="badge fail">FAIL</span><span class="value">6.61s</span>');
    expect(html).toContain('<span class="badge pass">PASS</span><span class="value">29.4ms</span>');
    expect(html).toContain(`<dd>${result.environment.node}</dd>`);
    expect(html).not.toContain('Incomplete run');
  });

  it('renders the same page from the same result', () => {
    expect(renderHtmlReport(fixture())).toBe(renderHtmlReport(fixture()));
  });

  it('marks a partial result incomplete, with the interrupted design and the designs not run', () => {
    const html = renderHtmlReport(partial());
    expect(html).toContain('<div class="verdict incomplete">INCOMPLETE: the run was cut short</div>');
    expect(html).toContain('<strong>Incomplete run.</strong> It was cut short; not run: never-reached.');
    expect(html).toContain('<span class="badge incomplete">INTERRUPTED</span>');
    expect(html).toContain('<strong>interrupted</strong>: interrupted by SIGINT during design');
  });

  it('escapes every user string, in the markup and in the embedded chart data', () => {
    const html = renderHtmlReport(hostile());
    expect(html).not.toContain(XSS);
    expect(html).not.toContain('<script>alert');
    expect(markupOf(html)).not.toMatch(/<(img|svg)\b/);
    expect(markupOf(html)).not.toContain('<!--');
    expect(html).toContain('<h1>&lt;/script&gt;&lt;script&gt;alert(&quot;name&quot;)&lt;/script&gt;</h1>');
    const data = scripts(html)[0]!;
    expect(data.body).not.toMatch(/<\/|<!--/);
    expect(JSON.stringify(JSON.parse(data.body))).toContain(JSON.stringify(XSS).slice(1, -1));
  });
});
