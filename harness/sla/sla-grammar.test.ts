import { describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import { buildRegistry } from './metric-registry.ts';
import { everythingWorkload, httpWorkload, messagingWorkload } from './sla-fixtures.ts';
import { parseSla, SlaSyntaxError } from './sla-grammar.ts';

const everything = buildRegistry(everythingWorkload);
const http = buildRegistry(httpWorkload);
const messaging = buildRegistry(messagingWorkload);

describe('parseSla', () => {
  it.each([
    ['p99 < 100ms', 'latency', 'p99', '<', 100_000, 'latency'],
    ['p(99.9) <= 1s', 'latency', 'p99.9', '<=', 1_000_000, 'latency'],
    ['p99.9<=1s', 'latency', 'p99.9', '<=', 1_000_000, 'latency'],
    ['p(95)<250us', 'latency', 'p95', '<', 250, 'latency'],
    ['mean < 20ms', 'latency', 'mean', '<', 20_000, 'latency'],
    ['max<=2.5s', 'latency', 'max', '<=', 2_500_000, 'latency'],
    ['errors < 0.5%', 'errors', 'errors', '<', 0.005, 'fraction'],
    ['throughput >= 1000/s', 'throughput', 'throughput', '>=', 1000, 'per-second'],
    ['count(timeout) == 0', 'count', 'count(timeout)', '==', 0, 'count'],
    ['count(http_5xx) != 3', 'count', 'count(http_5xx)', '!=', 3, 'count'],
    ['rate(grpc_unavailable) < 1%', 'rate', 'rate(grpc_unavailable)', '<', 0.01, 'fraction'],
    ['rate(http_503) < 1%', 'rate', 'rate(http_503)', '<', 0.01, 'fraction'],
    ['e2e p99 < 50ms', 'distribution', 'e2e p99', '<', 50_000, 'latency'],
    ['publish p99.9 < 20ms', 'distribution', 'publish p99.9', '<', 20_000, 'latency'],
    ['publish p(99.9) < 20ms', 'distribution', 'publish p99.9', '<', 20_000, 'latency'],
    ['e2e mean < 5ms', 'distribution', 'e2e mean', '<', 5000, 'latency'],
    ['lag < 1000', 'gauge', 'lag', '<', 1000, 'count'],
    ['lag < 2.5', 'gauge', 'lag', '<', 2.5, 'count'],
    ['lost == 0', 'check', 'lost', '==', 0, 'count'],
    ['duplicated < 0.1%', 'check', 'duplicated', '<', 0.001, 'fraction'],
    ['overlaps == 0', 'check', 'overlaps', '==', 0, 'count'],
    ['share(backend-1) < 25%', 'share', 'share(backend-1)', '<', 0.25, 'fraction'],
    ['remapped < 40%', 'check', 'remapped', '<', 0.4, 'fraction'],
    ['recovery < 3s', 'recovery', 'recovery', '<', 3_000_000, 'latency'],
    ['ops >= 100', 'ops', 'ops', '>=', 100, 'count'],
    ['requests >= 100', 'ops', 'requests', '>=', 100, 'count'],
    ['dropped == 0', 'dropped', 'dropped', '==', 0, 'count'],
    ['late < 1%', 'late', 'late', '<', 0.01, 'fraction'],
    ['redeliveries < 10', 'counter', 'redeliveries', '<', 10, 'count'],
    ['redeliveries < 0.5%', 'counter', 'redeliveries', '<', 0.005, 'fraction'],
  ])('reads %j', (line, kind, name, op, threshold, unit) => {
    const e = parseSla(line, everything);
    expect(e).toMatchObject({ source: line, metric: { kind, name, unit }, op, unit });
    expect(e.threshold).toBeCloseTo(threshold, 12);
  });

  it('says where each metric may be used', () => {
    expect(parseSla('p99 < 1s', everything).metric.use).toEqual({ run: true, scopes: ['before', 'during', 'after'], perSecond: true, recoveryDefault: true });
    expect(parseSla('lag < 10', everything).metric.use).toMatchObject({ run: true, perSecond: true, recoveryDefault: false });
    expect(parseSla('remapped < 40%', everything).metric.use).toEqual({ run: false, scopes: ['during', 'after'], perSecond: false, recoveryDefault: false });
    expect(parseSla('recovery < 3s', everything).metric.use).toEqual({ run: false, scopes: ['after'], perSecond: false, recoveryDefault: false });
  });

  it.each([
    ['p99 < 100', /p99 needs a time unit/],
    ['e2e p99 < 100', /e2e p99 needs a time unit/],
    ['errors < 0.5', /needs a percentage/],
    ['remapped < 40', /needs a percentage/],
    ['throughput > 100', /needs a rate per second/],
    ['count(timeout) == 1ms', /needs a whole count with no unit, or a percentage of operations/],
    ['count(timeout) == 0.5', /whole count/],
    ['lost == 0.5', /whole count/],
    ['ops < 5%', /ops needs a whole count with no unit, e\.g\./],
    ['lag < 10ms', /lag needs a number with no unit/],
    ['p99 100ms', /expected '\[subject\] <metric> <op> <value>'/],
    ['p99 =< 5ms', /expected/],
    ['', /expected/],
    ['latency < 5ms', /unknown metric 'latency'/],
    ['foo p99 < 1ms', /unknown metric 'foo p99'/],
    ['lag(3) < 1', /unknown metric 'lag\(3\)'/],
    ['count(slow) == 0', /unknown error kind 'slow'/],
    ['rate < 1%', /rate takes an error kind in parentheses/],
    ['e2e < 5ms', /'e2e' is a distribution: write 'e2e p99'/],
    ['e2e errors < 1%', /after the distribution 'e2e' comes p<N>, mean, min or max/],
    ['share(a b) < 1%', /share takes a backend/],
    ['p0 < 1ms', /percentile 0 is outside/],
    ['p101 < 1ms', /outside/],
  ])('rejects %j saying what is wrong', (line, message) => {
    expect(() => parseSla(line, everything)).toThrow(SlaSyntaxError);
    expect(() => parseSla(line, everything)).toThrow(message);
  });

  it('lists the names this workload offers when a name is unknown', () => {
    expect(() => parseSla('lsot == 0', messaging)).toThrow(
      "SLA line 'lsot == 0': unknown metric 'lsot'; this workload offers: p<N>, mean, min, max, errors, rate(<kind>), count(<kind>), throughput, ops, dropped, late, recovery, cpu_per_op, rss, send_lag <latency>, e2e <latency>, publish <latency>, redeliveries, lag, lost, duplicated",
    );
    expect(messaging.names()).not.toContain('share(<backend>)');
    expect(() => parseSla('share(b1) < 25%', messaging)).toThrow(/unknown metric 'share\(b1\)'/);
    expect(http.names()).toContain('share(<backend>)');
    expect(() => parseSla('e2e p99 < 5ms', http)).toThrow(/unknown metric 'e2e p99'; this workload offers: p<N>, .*share\(<backend>\), send_lag <latency>$/);
  });

  it('lists the error kinds when a kind is unknown, families as declared', () => {
    expect(() => parseSla('count(slow) == 0', http)).toThrow("unknown error kind 'slow'; this workload records: timeout, refused, reset, other, http_<status>, http_<class>xx");
    expect(() => parseSla('rate(http_9xx) < 1%', http)).toThrow(/unknown error kind 'http_9xx'/);
    expect(() => parseSla('rate(grpc_unavailable) < 1%', http)).toThrow(/unknown error kind/);
    expect(() => parseSla('rate(nack) < 1%', messaging)).not.toThrow();
  });
});

describe('buildRegistry', () => {
  it('refuses a driver that declares a name twice or takes a core name', () => {
    const counter = { description: 'x', better: 'lower' } as const;
    expect(() => buildRegistry({ vocabulary: { errorKinds: [], counters: { errors: counter } } })).toThrow(FaultlineError);
    expect(() => buildRegistry({ vocabulary: { errorKinds: [], counters: { lag: counter }, gauges: { lag: counter } } })).toThrow(/the gauge 'lag' has the name of the counter/);
    expect(() => buildRegistry({ vocabulary: { errorKinds: [], counters: { p95x: counter } } })).toThrow(/cannot be written/);
    expect(() => buildRegistry({ vocabulary: { errorKinds: [], counters: { 'two words': counter } } })).toThrow(/cannot be written/);
  });

  it('keeps one entry per metric with its unit and where it may be used', () => {
    const lost = everything.entries.find((e) => e.name === 'lost');
    expect(lost).toMatchObject({ kind: 'check', unit: 'count', description: 'messages sent and never received', use: { run: true, perSecond: true } });
    expect(everything.entries.find((e) => e.name === 'e2e <latency>')).toMatchObject({ kind: 'distribution', unit: 'latency' });
    expect(everything.errorKinds()).toContain('grpc_unavailable');
  });
});
