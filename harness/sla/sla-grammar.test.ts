import { describe, expect, it } from 'vitest';
import { errorKindMatches, parseSla, SlaSyntaxError } from './sla-grammar.ts';

describe('parseSla', () => {
  it('reads latency lines into microseconds', () => {
    expect(parseSla('p99 < 100ms')).toMatchObject({ metric: { kind: 'percentile', percentile: 99 }, op: '<', threshold: 100_000, unit: 'latency' });
    expect(parseSla('p99.9 <= 1s')).toMatchObject({ metric: { kind: 'percentile', percentile: 99.9 }, op: '<=', threshold: 1_000_000 });
    expect(parseSla('p(95)<250us')).toMatchObject({ metric: { kind: 'percentile', percentile: 95 }, threshold: 250 });
    expect(parseSla('mean < 20ms')).toMatchObject({ metric: { kind: 'mean' }, threshold: 20_000 });
    expect(parseSla('max<=2.5s').threshold).toBe(2_500_000);
  });

  it('reads rates, throughput and counts', () => {
    expect(parseSla('errors < 0.5%')).toMatchObject({ metric: { kind: 'errors' }, threshold: 0.005, unit: 'fraction' });
    expect(parseSla('rate(timeout) < 1%')).toMatchObject({ metric: { kind: 'rate', errorKind: 'timeout' }, threshold: 0.01 });
    expect(parseSla('throughput >= 1000/s')).toMatchObject({ metric: { kind: 'throughput' }, op: '>=', threshold: 1000, unit: 'per-second' });
    expect(parseSla('count(timeout) == 0')).toMatchObject({ metric: { kind: 'count', errorKind: 'timeout' }, op: '==', threshold: 0, unit: 'count' });
    expect(parseSla('count(http_5xx) != 3')).toMatchObject({ metric: { kind: 'count', errorKind: 'http_5xx' }, op: '!=' });
    expect(parseSla('dropped == 0').metric).toEqual({ kind: 'dropped' });
  });

  it.each([
    ['p99 < 100', /needs a time unit/],
    ['errors < 0.5', /needs a percentage/],
    ['throughput > 100', /needs a rate per second/],
    ['count(timeout) == 1ms', /whole count/],
    ['count(timeout) == 0.5', /whole count/],
    ['p99 100ms', /expected '<metric> <op> <value>'/],
    ['latency < 5ms', /unknown metric 'latency'/],
    ['count(slow) == 0', /unknown error kind 'slow'/],
    ['p0 < 1ms', /outside/],
    ['p101 < 1ms', /outside/],
    ['p99 =< 5ms', /expected/],
    ['', /expected/],
  ])('rejects %j saying what is wrong', (line, message) => {
    expect(() => parseSla(line)).toThrow(SlaSyntaxError);
    expect(() => parseSla(line)).toThrow(message);
  });
});

describe('errorKindMatches', () => {
  it('matches exact kinds and status classes', () => {
    expect(errorKindMatches('timeout', 'timeout')).toBe(true);
    expect(errorKindMatches('http_5xx', 'http_503')).toBe(true);
    expect(errorKindMatches('http_5xx', 'http_404')).toBe(false);
    expect(errorKindMatches('http_503', 'http_502')).toBe(false);
  });
});
