import type { CheckerDefinition } from '../checkers/checker.ts';
import type { Vocabulary } from '../drivers/driver.ts';
import { newHistogram } from '../metrics/histogram.ts';
import { distributionStats, mergeRows, windowStats } from '../metrics/sink.ts';
import type { CheckCount, DistributionStats, FaultRecord, GaugeStats, SecondStats, WindowStats } from '../result/result.ts';
import type { DesignFigures } from './judge-design.ts';

/** Error kinds as the HTTP driver declares them: exact kinds and two families. */
export const httpErrorKinds: Vocabulary['errorKinds'] = [
  { name: 'timeout', description: 'no answer within the timeout' },
  { name: 'refused', description: 'connection refused' },
  { name: 'reset', description: 'connection reset' },
  { name: 'other', description: 'any other transport error' },
  { name: 'http_<status>', description: 'an answer with that status', matches: /^http_[1-5]\d\d$/ },
  { name: 'http_<class>xx', description: 'an answer with a status of that class', matches: /^http_[1-5]xx$/ },
];

/** An HTTP-like workload: error kinds and the `served_by` tally. */
export const httpWorkload = {
  vocabulary: { errorKinds: httpErrorKinds, tallies: { served_by: { description: 'responses per backend' } } },
};

function checker(name: string, counts: CheckerDefinition['counts']): CheckerDefinition {
  return { name, counts, check: () => Promise.resolve({}) };
}

/** A messaging-like workload: distributions, a counter, a gauge and delivery counts. */
export const messagingWorkload = {
  vocabulary: {
    errorKinds: [{ name: 'timeout', description: 'no confirm in time' }, { name: 'nack', description: 'the broker refused the message' }],
    distributions: {
      e2e: { description: 'time from send to consumer receipt', better: 'lower' },
      publish: { description: 'time from send to broker confirm', better: 'lower' },
    },
    counters: { redeliveries: { description: 'messages delivered again by the broker', better: 'lower' } },
    gauges: { lag: { description: 'messages published but not yet consumed', better: 'lower' } },
  } satisfies Vocabulary,
  checkers: [
    checker('delivery', {
      lost: { description: 'messages sent and never received', unit: 'count', better: 'lower' },
      duplicated: { description: 'messages received more than once', unit: 'count', better: 'lower' },
    }),
  ],
};

/** Every kind of name at once: HTTP error kinds and tally, gRPC kinds, messaging metrics and checker counts of every scope. */
export const everythingWorkload = {
  vocabulary: {
    ...messagingWorkload.vocabulary,
    errorKinds: [...httpErrorKinds, { name: 'grpc_unavailable', description: 'UNAVAILABLE' }],
    tallies: { served_by: { description: 'responses per backend' } },
  } satisfies Vocabulary,
  checkers: [
    ...messagingWorkload.checkers,
    checker('fencing', { overlaps: { description: 'times two holders held the lock at once', unit: 'count', better: 'lower' } }),
    checker('key-remap', { remapped: { description: 'keys that moved', unit: 'fraction', better: 'lower', scope: 'fault' } }),
  ],
};

/** One window's operations and names, as a test writes them. */
export interface RowSpec {
  /** Successful operations: [how many, latency µs]. */
  ok?: [number, number][];
  /** Failed operations by kind: [how many, latency µs]; without a latency they add none to the histogram. */
  failed?: Record<string, [number, number?]>;
  /** Values of named distributions: [how many, µs]. */
  distributions?: Record<string, [number, number][]>;
  counters?: Record<string, number>;
  tallies?: Record<string, Record<string, number>>;
  gauges?: Record<string, number>;
  dropped?: number;
  late?: number;
}

function histogramOf(values: readonly (readonly [number, number?])[]): ReturnType<typeof newHistogram> {
  const h = newHistogram();
  for (const [n, us] of values) if (us !== undefined) h.recordValueWithCount(us, n);
  return h;
}

function distribution(values: readonly [number, number][]): DistributionStats {
  const h = histogramOf(values);
  const d = distributionStats(h);
  h.destroy();
  return d;
}

/** The operations of a window of `seconds` seconds. */
export function stats(spec: RowSpec, seconds: number): WindowStats {
  const h = histogramOf([...(spec.ok ?? []), ...Object.values(spec.failed ?? {})]);
  const ok = (spec.ok ?? []).reduce((a, [n]) => a + n, 0);
  const errors = new Map(Object.entries(spec.failed ?? {}).map(([k, [n]]) => [k, n]));
  const s = windowStats(h, ok, errors, seconds);
  h.destroy();
  return s;
}

/** One second's row. */
export function row(second: number, spec: RowSpec): SecondStats {
  const r: SecondStats = { second, ...stats(spec, 1), dropped: spec.dropped ?? 0, late: spec.late ?? 0 };
  if (spec.distributions) r.distributions = Object.fromEntries(Object.entries(spec.distributions).map(([k, v]) => [k, distribution(v)]));
  if (spec.counters) r.counters = spec.counters;
  if (spec.tallies) r.tallies = spec.tallies;
  if (spec.gauges) r.gauges = spec.gauges;
  return r;
}

/** A design's figures from its seconds, totals merged from them as the sink would. */
export function figuresOf(series: readonly SecondStats[], extra: { faults?: FaultRecord[]; checks?: Record<string, CheckCount> } = {}): DesignFigures {
  const m = mergeRows(series, series.length);
  const gauges: Record<string, GaugeStats> = {};
  for (const name of new Set(series.flatMap((r) => Object.keys(r.gauges ?? {})))) {
    const samples = series.flatMap((r) => (r.gauges?.[name] === undefined ? [] : [r.gauges[name]]));
    gauges[name] = { samples: samples.length, min: Math.min(...samples), max: Math.max(...samples), mean: samples.reduce((a, b) => a + b, 0) / samples.length, last: samples.at(-1)! };
  }
  const { ops, ok, errors, errorsByKind, throughput, latencyUs, histogram } = m;
  return {
    totals: { ops, ok, errors, errorsByKind, throughput, latencyUs, histogram },
    load: { dropped: m.dropped, late: m.late },
    series,
    faults: extra.faults ?? [],
    windowMs: series.length * 1000,
    distributions: m.distributions,
    counters: m.counters,
    tallies: m.tallies,
    gauges,
    checks: extra.checks ?? {},
  };
}
