import { describe, expect, it } from 'vitest';
import { liveLine, summary } from './terminal.ts';
import { faultFixture, fixture, messagingFixture, withResources } from './testing/fixtures.ts';

describe('liveLine', () => {
  it('shows a second\'s rate, p50, p99, errors and active faults', () => {
    const result = messagingFixture();
    const row = result.designs[0]!.series[2]!;
    expect(liveLine('queue', row, 6, result.scenario.wording)).toBe('queue   3/6s  96 ok/s  p50 36ms  p99 216ms  4 errors (timeout 4)  fault: broker-pause');
  });

  it('says in the workload\'s words when nothing completed in a second', () => {
    const http = fixture();
    const row = { ...http.designs[0]!.series[0]!, ops: 0, ok: 0, throughput: 0 };
    expect(liveLine('single', row, 6, http.scenario.wording)).toBe('single   1/6s  0 ok/s  no requests completed  0 errors');
    expect(liveLine('queue', row, 6, messagingFixture().scenario.wording)).toBe('queue   1/6s  0 ok/s  no messages completed  0 errors');
  });
});

describe('summary', () => {
  it('heads the figures with the wording and keeps requests by responder for HTTP', () => {
    const text = summary(faultFixture());
    expect(text).toContain('  requests  ok/s  errors     p50    p90    p99  p99.9    max\n  2000        81     379');
    expect(text).toContain('  requests by responder (x-served-by): 18939 1301 (80%), 19143 320 (20%)\n');
    expect(text).toMatch(/FAIL: single missed the SLA\n$/);
  });

  it('shows counters, distributions (p50/p99), gauges (max) and checker counts with their first examples', () => {
    const result = messagingFixture();
    const text = summary(result);
    const queue = text.slice(text.indexOf('queue (rabbitmq)'), text.indexOf('stream (kafka)'));
    expect(queue).toMatch(/^ {2}messages {2}ok\/s {2}errors/m);
    expect(queue).toContain('  counters: redelivered 8\n');
    expect(queue).toContain('  e2e: p50 5.5ms, p99 145ms, max 1.12s (600 values)\n');
    expect(queue).toContain('  lag: max 180, last 2\n');
    expect(queue).toContain(`  check lost: 3 (e.g. ${result.designs[0]!.checks.lost!.examples.join('; ')})\n`);
    expect(queue).toContain('  check duplicated: 0\n');
    expect(queue).toContain('  FAIL  lost == 0                    measured 3');
    expect(text).not.toMatch(/request/i);
  });

  it('shows the first three examples and how many more there are, and a drain that did not finish', () => {
    const result = messagingFixture();
    const d = result.designs[0]!;
    d.checks.lost!.examples = ['a', 'b', 'c', 'd', 'e'];
    d.drain = { ms: 5000, deadlineMs: 5000, complete: false };
    const text = summary(result);
    expect(text).toContain('  check lost: 3 (e.g. a; b; c; … 2 more)\n');
    expect(text).toContain('  drain did not finish: stopped at its 5000 ms deadline\n');
  });

  it('shows what each design cost: CPU per operation by service, peak memory, and the load generator\'s CPU', () => {
    const text = summary(withResources());
    expect(text).toContain('  load generator fell behind: 4 of 1801 sends late by > 10 ms (max 23.2 ms), 0 dropped\n  cpu: 120 µs/op (service 120 µs), peak rss 90 MB; load generator 60 µs/op\n');
    expect(text).toContain('  cpu: 150 µs/op (cluster 150 µs), peak rss 90 MB; load generator 60 µs/op\n');
    expect(summary(fixture())).not.toContain('cpu:');
  });
});
