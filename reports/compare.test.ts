import { describe, expect, it } from 'vitest';
import { compareResults, DEFAULT_THRESHOLDS } from './compare.ts';
import { renderCompareHtml } from './compare-html.ts';
import { renderCompareMarkdown } from './compare-markdown.ts';
import type { RunResult } from '../harness/result/result.ts';
import { trialFigure } from '../harness/run/trials.ts';
import { fixture, hostile, messagingFixture, withRegression, XSS } from './testing/fixtures.ts';

/** The messaging fixture as a baseline in which the queue design lost nothing. */
function nothingLost(): RunResult {
  const r = messagingFixture();
  Object.assign(r.designs[0]!.checks.lost!, { value: 0, perSecond: [0, 0, 0, 0, 0, 0], examples: [] });
  return r;
}

describe('compare', () => {
  it('finds no regression between a run and itself, and shows every figure side by side', () => {
    const c = compareResults(fixture(), fixture());
    expect(c.regressions).toEqual([]);
    expect(c.notes).toEqual([]);
    expect(c.designs.map((d) => d.name)).toEqual(['single', 'cluster-2']);
    const p99 = c.designs[1]!.figures.find((f) => f.name === 'p99')!;
    const measured = fixture().designs[1]!.totals.latencyUs.p99;
    expect(p99).toMatchObject({ baseline: measured, current: measured, changeText: '0%', limitText: '≤ +10%', regression: false });
    expect(c.designs[0]!.figures.map((f) => f.label)).toEqual(['requests', 'ok/s', 'errors', 'p50', 'p90', 'p99', 'p99.9', 'max', 'mean', 'late sends', 'dropped sends']);
  });

  it('flags latency percentiles that rose beyond the threshold, naming the design and the figure', () => {
    const c = compareResults(fixture(), withRegression());
    expect(c.designs[0]!.regressions).toEqual([]);
    const flagged = c.designs[1]!.figures.filter((f) => f.regression).map((f) => f.name);
    expect(flagged).toEqual(['p50', 'p90', 'p99', 'p999']);
    expect(c.regressions[2]).toBe('cluster-2: p99 29.4ms → 44.1ms (+50%, limit ≤ +10%)');
  });

  it('with trials on both sides, holds back a rise that stays inside the noise and flags one beyond it', () => {
    const withTrials = (r: RunResult, p99s: number[]): RunResult => {
      const d = r.designs[1]!;
      d.repeat = { trials: 3, passedTrials: 3, figures: { p99: trialFigure(p99s) } };
      return r;
    };
    const base = withTrials(fixture(), [25_000, 29_400, 34_000]);
    const inside = compareResults(base, withTrials(withRegression(), [30_000, 44_100, 50_000]));
    expect(inside.designs[1]!.figures.find((f) => f.name === 'p99')).toMatchObject({ regression: false, changeText: '+50% (within the noise)' });
    const beyond = compareResults(base, withTrials(withRegression(), [43_000, 44_100, 45_000]));
    expect(beyond.designs[1]!.figures.find((f) => f.name === 'p99')!.regression).toBe(true);
  });

  it('flags a throughput drop and takes its thresholds from the caller', () => {
    const current = withRegression(fixture(), 'single', { latency: 1.05, throughput: 0.8 });
    expect(compareResults(fixture(), current).regressions).toEqual(['single: ok/s 234.3/s → 187.4/s (−20%, limit ≥ −10%)']);
    expect(compareResults(fixture(), current, { ...DEFAULT_THRESHOLDS, throughputDrop: 0.25 }).regressions).toEqual([]);
    expect(compareResults(fixture(), current, { ...DEFAULT_THRESHOLDS, latencyIncrease: 0.01, throughputDrop: 0.25 }).regressions).toHaveLength(4);
  });

  it('flags a rise in the error rate in percentage points, and an SLA line that held and now fails', () => {
    const current = fixture();
    const d = current.designs[1]!;
    d.totals.errors = 18;
    d.totals.errorsByKind = { timeout: 18 };
    d.sla[1] = { ...d.sla[1]!, pass: false, measured: 0.01, measuredText: '1%' };
    const c = compareResults(fixture(), current);
    expect(c.designs[1]!.figures.find((f) => f.name === 'errors')).toMatchObject({ changeText: '+1 pp', regression: true });
    expect(c.regressions).toEqual(['cluster-2: errors 0% → 1% (+1 pp, limit ≤ +0.1 pp)', "cluster-2: SLA 'errors < 0.5%' held (0%) and now fails (1%)"]);
  });

  it('matches designs by name and lists the ones only one run has', () => {
    const current = fixture();
    current.designs[0]!.name = 'single-v2';
    const c = compareResults(fixture(), current);
    expect(c.designs.map((d) => d.name)).toEqual(['cluster-2']);
    expect(c.onlyInBaseline).toEqual(['single']);
    expect(c.onlyInCurrent).toEqual(['single-v2']);
  });

  it('notes what makes two runs unlike', () => {
    const current = fixture();
    current.scenario.durationMs = 20_000;
    current.environment.cpus = 8;
    expect(compareResults(fixture(), current).notes).toEqual([
      'different windows: warm-up 1000 ms + 6000 ms vs 1000 ms + 20000 ms',
      `different machines: 2 × ${current.environment.cpuModel}, Node ${current.environment.node}, local vs 8 × ${current.environment.cpuModel}, Node ${current.environment.node}, local`,
    ]);
  });

  it('renders HTML and Markdown with the regressions flagged and user strings escaped', () => {
    const c = compareResults(hostile(), withRegression(hostile()));
    const html = renderCompareHtml(c);
    const md = renderCompareMarkdown(c);
    for (const text of [html, md]) {
      expect(text).not.toContain(XSS);
      expect(text).toContain('p99 29.4ms → 44.1ms (+50%, limit ≤ +10%)');
    }
    expect(html).toContain('REGRESSION: 4 figures moved beyond their threshold');
    expect(md).toMatch(/^### ❌ .*: 4 regressions against the baseline/);
    expect(md).toContain('| p99 | 29.4ms | 44.1ms | **+50%** ❌ | ≤ +10% |');
  });

  it('flags a checker count that moved against the way the scenario declares better', () => {
    const c = compareResults(nothingLost(), messagingFixture());
    expect(c.regressions).toEqual(['queue: lost 0 → 3 (+3, limit no rise)']);
    expect(c.designs[0]!.named.find((n) => n.name === 'lost')).toMatchObject({ kind: 'check', baseline: 0, current: 3, changeText: '+3', limitText: 'no rise', regression: true });
    expect(compareResults(messagingFixture(), nothingLost()).regressions).toEqual([]);
    expect(compareResults(messagingFixture(), nothingLost()).designs[0]!.named.find((n) => n.name === 'lost')).toMatchObject({ changeText: '−3', regression: false });
  });

  it('judges no checker count the scenario does not say which way is better, nor one without a value', () => {
    const baseline = nothingLost();
    const current = messagingFixture();
    current.scenario.metrics.lost = { ...current.scenario.metrics.lost!, better: 'neither' };
    baseline.scenario.metrics.lost = current.scenario.metrics.lost;
    expect(compareResults(baseline, current).regressions).toEqual([]);
    const none = messagingFixture();
    none.designs[0]!.checks.lost!.value = null;
    expect(compareResults(nothingLost(), none).designs[0]!.named.find((n) => n.name === 'lost')).toMatchObject({ current: null, changeText: '—', regression: false });
  });

  it('shows checker counts and named distributions\' p99 side by side, in the workload\'s words', () => {
    const current = messagingFixture();
    current.designs[1]!.distributions.e2e!.latencyUs.p99 *= 2;
    const c = compareResults(messagingFixture(), current);
    expect(c.designs[1]!.named.map((n) => [n.label, n.changeText, n.regression])).toEqual([
      ['lost', '0', false],
      ['duplicated', '0', false],
      ['e2e p99', '+100%', false],
    ]);
    expect(c.designs[0]!.figures[0]!.label).toBe('messages');
    const md = renderCompareMarkdown(compareResults(nothingLost(), messagingFixture()));
    expect(md).toMatch(/^### ❌ queue-vs-stream: 1 regression against the baseline/);
    expect(md).toContain('| lost | 0 | 3 | **+3** ❌ | no rise |');
    expect(md).toContain('| e2e p99 | 145ms | 145ms | 0% |  |');
    expect(md).toContain('| messages | 600 | 600 | 0% |  |');
    const html = renderCompareHtml(compareResults(nothingLost(), messagingFixture()));
    expect(html).toContain('<li class="regression">lost 0 → 3 (+3, limit no rise)</li>');
    expect(html).toContain('<td>lost</td><td class="num">0</td><td class="num">3</td><td class="num"><span class="regression">+3</span></td><td>no rise</td>');
  });
});
