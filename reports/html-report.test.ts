import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { reportCharts } from './charts/report-charts.ts';
import { renderHtmlReport } from './html-report.ts';
import { fixture, hostile, messagingFixture, partial, withResources, XSS } from './testing/fixtures.ts';

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

  it('shows a design of schema 2 in its own words: counters beside the figures, distributions, gauges and entry', () => {
    const html = renderHtmlReport(messagingFixture());
    expect(html).toContain('latency of every message, from its intended send time');
    expect(html).toContain('<th class="num">messages</th><th class="num">ok/s</th>');
    expect(html).toContain('<th class="num">dropped sends</th><th class="num">redelivered</th>');
    expect(html).toMatch(/<td class="num">0<\/td><td class="num">8<\/td><\/tr>/);
    expect(html).toContain('<h3>Distributions</h3>');
    expect(html).toContain('<td><code>e2e</code> time from publish to consumer receipt</td><td>queue</td><td class="num">600</td><td class="num">5.5ms</td>');
    expect(html).toContain('<td><code>lag</code> messages published and not yet consumed</td><td>stream</td><td class="num">6</td><td class="num">10</td><td class="num">66.3</td><td class="num">260</td><td class="num">11</td>');
    expect(html).toContain('entry: amqp://127.0.0.1:5672; client: amqp {&quot;prefetch&quot;:50}; history: history/queue.jsonl');
    expect(html).toContain('drain 420 ms of 5 s allowed');
    expect(html).toContain('start to first message');
    expect(markupOf(html)).not.toMatch(/request/i);
    expect(scripts(html)[0]!.body).not.toMatch(/request/i);
  });

  it('has a correctness table: each checker count, every design\'s value and its examples', () => {
    const html = renderHtmlReport(messagingFixture());
    const section = /<section id="correctness">[\s\S]*?<\/section>/.exec(html)![0];
    expect(section).toContain('<th>count</th><th class="num">queue</th><th class="num">stream</th><th>examples</th>');
    expect(section).toContain('<td><code>lost</code> messages published and acknowledged, never consumed</td><td class="num"><span class="value">3</span></td><td class="num"><span class="value">0</span></td>');
    expect([...section.matchAll(/<li><code>(.*?)<\/code><\/li>/g)].map((m) => m[1])).toEqual(messagingFixture().designs[0]!.checks.lost!.examples);
    expect(section).toContain('<td><code>duplicated</code> messages consumed more than once</td><td class="num"><span class="value">0</span></td><td class="num"><span class="value">0</span></td><td><span class="muted">none</span></td>');
    expect(html).toContain('<a href="#correctness">Correctness</a>');
    expect(renderHtmlReport(fixture())).not.toContain('id="correctness"');
  });

  it('shows at most 10 examples of a count, and the key-remap counts of an upgraded schema-1 result per fault', () => {
    const result = messagingFixture();
    result.designs[0]!.checks.lost!.examples = Array.from({ length: 14 }, (_, i) => `orders#${i}`);
    const section = /<section id="correctness">[\s\S]*?<\/section>/.exec(renderHtmlReport(result))![0];
    expect(section.match(/<li>/g)).toHaveLength(10);
    const http = fixture();
    http.designs[1]!.checks = { remapped: { checker: 'key-remap', value: null, unit: 'fraction', byFault: { crash: { during: 0.5, after: 0.025 } }, examples: [] } };
    expect(renderHtmlReport(http)).toContain('<span class="value">crash: during 50%, after 2.5%</span>');
  });

  it('puts a chart per named distribution and gauge in each design, marked with its name', () => {
    const html = renderHtmlReport(messagingFixture());
    expect(html).toContain('<figure class="chart" data-chart-kind="distribution-over-time" data-design="queue" data-metric="e2e"><figcaption>e2e percentiles over time</figcaption>');
    expect(html).toContain('<figure class="chart" data-chart-kind="gauge-over-time" data-design="stream" data-metric="lag"><figcaption>lag over time</figcaption>');
    expect(JSON.parse(scripts(html)[0]!.body)).toHaveLength(reportCharts(messagingFixture()).length);
  });

  it('says what each design cost under its load line, and charts its CPU per service', () => {
    const html = renderHtmlReport(withResources());
    expect(html).toMatch(/<p class="services">load: [^<]*<\/p>\n<p class="services">cpu: 120 µs\/op \(service 120 µs\), peak rss 90 MB; load generator 60 µs\/op<\/p>/);
    expect(html).toContain('<p class="services">cpu: 150 µs/op (cluster 150 µs), peak rss 90 MB; load generator 60 µs/op</p>');
    expect(html).toContain('<figure class="chart" data-chart-kind="cpu-over-time" data-design="cluster-2"><figcaption>CPU per service over time</figcaption>');
    expect(renderHtmlReport(fixture())).not.toContain('µs/op');
  });

  it('escapes checker examples', () => {
    const html = renderHtmlReport(hostile(messagingFixture()));
    expect(html).not.toContain(XSS);
    expect(html).not.toContain('<script>alert');
    expect(html).toContain('<li><code>&lt;script&gt;alert(&quot;example&quot;)&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;</code></li>');
  });
});
