import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { markdownReport, renderMarkdown } from './markdown-report.ts';
import { fixture, hostile, messagingFixture, partial, XSS } from './testing/fixtures.ts';

describe('summary.md', () => {
  it('is a compact verdict table: each SLA line with every design\'s verdict and measured value', () => {
    const md = renderMarkdown(fixture());
    expect(md).toMatch(/^### ❌ cluster-vs-single: FAIL: single missed the SLA/);
    expect(md).toContain('| SLA line | threshold | window | single | cluster-2 |');
    expect(md).toContain('| p99 &lt; 50ms | &lt; 50ms | whole window | ❌ 6.61s | ✅ 29.4ms |');
    expect(md).toContain('| throughput &gt;= 280/s | &gt;= 280/s | whole window | ❌ 234.3/s | ✅ 299.7/s |');
    expect(md).toMatch(/\| cluster-2 \| ✅ \| 1800 \| 299\.7\/s \| 0% \|/);
  });

  it('shows counters beside the figures, distributions (p50, p99), gauges (max) and checker counts with their first examples', () => {
    const md = renderMarkdown(messagingFixture());
    expect(md).toContain('| design | status | messages | ok/s | errors | p50 | p99 | p99.9 | max | redelivered |');
    expect(md).toContain('| queue | ❌ | 600 | 99.3/s | 0.667% | 1.98ms | 52.2ms | 360ms | 360ms | 8 |');
    expect(md).toContain('| stream | ✅ | 600 | 99.3/s | 0.667% | 3.08ms | 81.2ms | 583ms | 582ms | 0 |');
    expect(md).toContain('| design | e2e p50 | e2e p99 | lag max |\n| --- | ---: | ---: | ---: |\n| queue | 5.5ms | 145ms | 180 |\n| stream | 8.81ms | 224ms | 260 |');
    expect(md).toContain('| check | queue | stream | first examples |');
    expect(md).toContain('| lost | 3 | 0 | queue: orders#1207 published at 2.013 s, never consumed; orders#1211 published at 2.051 s, never consumed; orders#1219 published at 2.122 s, never consumed |');
    expect(md).toContain('| duplicated | 0 | 0 |  |');
    expect(md).not.toMatch(/request/i);
  });

  it('shows no named-metric tables for a result that has none', () => {
    const md = renderMarkdown(fixture());
    expect(md).toContain('| design | status | requests | ok/s |');
    expect(md).not.toContain('| check |');
    expect(md).not.toMatch(/\| design \| \S+ p50 \|/);
  });

  it('says when the run is incomplete', () => {
    expect(renderMarkdown(partial())).toMatch(/^### ⚠️ cluster-vs-single: INCOMPLETE[\s\S]*> ⚠️ \*\*Incomplete run\*\*: it was cut short; not run: never-reached/);
  });

  it('neutralises HTML and table syntax in user strings', () => {
    const md = renderMarkdown(hostile());
    expect(md).not.toContain(XSS);
    expect(md).not.toMatch(/<(script|svg|img)/);
    expect(md).toContain('&lt;img src=x onerror=alert(1)&gt;');
    const checked = renderMarkdown(hostile(messagingFixture()));
    expect(checked).not.toMatch(/<(script|svg|img)/);
    expect(checked).toContain('&lt;script&gt;alert("example")&lt;/script&gt; &lt;img src=x onerror=alert(1)&gt;');
  });

  it('is appended to the CI step summary when GITHUB_STEP_SUMMARY is set, and nowhere otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'faultline-md-test-'));
    try {
      const file = join(dir, 'step-summary.md');
      const files = markdownReport.render(fixture()) as { path: string; content: string }[];
      await markdownReport.publish!(files, { GITHUB_STEP_SUMMARY: file });
      await markdownReport.publish!(files, { GITHUB_STEP_SUMMARY: file });
      await markdownReport.publish!(files, {});
      const text = await readFile(file, 'utf8');
      expect(text).toBe(`${files[0]!.content}\n`.repeat(2));
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
