import type { CheckerDefinition } from '../checkers/checker.ts';
import { CORE_DISTRIBUTIONS, SHARE_TALLY, type ErrorKind, type Vocabulary } from '../drivers/driver.ts';
import { FaultlineError } from '../errors.ts';
import { decodeHistogram } from '../metrics/histogram.ts';
import type { CheckCount, DistributionStats, LatencyFigures, SlaUnit, WindowStats } from '../result/result.ts';
import { SlaSyntaxError } from './sla-grammar.ts';
import type { SlaScope } from './sla-rule.ts';

/** Where a metric may be used in SLA lines. */
export interface MetricUse {
  /** In a plain line, over the whole measured window. */
  run: boolean;
  /** In a line scoped to a fault: the scopes that take it. */
  scopes: readonly SlaScope['kind'][];
  /** It has a value for a single second: a recovery's `until` may use it. */
  perSecond: boolean;
  /** A whole-run line on it is part of what "recovered" means when a recovery line gives no `until`. */
  recoveryDefault: boolean;
}

/** Where a metric comes from: a core metric of operations, or a name the workload declared. */
export type MetricKind =
  | 'latency' | 'errors' | 'rate' | 'count' | 'throughput' | 'ops' | 'dropped' | 'late' | 'recovery' | 'share' | 'cpu_per_op' | 'rss'
  | 'distribution' | 'counter' | 'gauge' | 'check';

/** One metric this workload offers, as listed in messages and docs. */
export interface MetricEntry {
  kind: MetricKind;
  /** As written in lines: `p<N>`, `rate(<kind>)`, `share(<backend>)`, `e2e <latency>`, `lag`. */
  name: string;
  description: string;
  unit: SlaUnit;
  use: MetricUse;
}

/**
 * The figures of the part of a design's run a line is judged on: the whole measured window,
 * the seconds of a fault's scope, or one second.
 */
export interface SlaWindow {
  /** The whole run, or seconds [from, to) of the series; a fault's scope names the fault. */
  span: { kind: 'run' } | { kind: 'seconds'; from: number; to: number; fault?: { name: string; scope: SlaScope['kind'] } };
  ops: WindowStats;
  /** Open model: sends skipped and sent late by the generator. */
  dropped: number;
  late: number;
  distributions: Readonly<Record<string, DistributionStats>>;
  counters: Readonly<Record<string, number>>;
  tallies: Readonly<Record<string, Readonly<Record<string, number>>>>;
  /** Each gauge's largest sample in the window. */
  gauges: Readonly<Record<string, number>>;
  /** What the checkers found over the whole run; a checker count reads the part its span covers. */
  checks: Readonly<Record<string, CheckCount>>;
  /** For `recovery`: µs from the fault's end until recovered; null = never. */
  recoveryUs?: number | null;
  /**
   * What the design's services (not the load generator) cost in the window: CPU µs per
   * operation (null: no operation completed) and their memory together at its largest (bytes;
   * null: not sampled). Absent when the run sampled no resources.
   */
  resources?: { cpuUsPerOp: number | null; peakRssBytes: number | null };
}

/** A metric resolved for one line: what it is, its unit, where it may be used and how to measure it. */
export interface SlaMetric {
  kind: MetricKind;
  /** As judged: `p99`, `e2e p99.9`, `rate(timeout)`, `share(backend-1)`, `lag`. */
  name: string;
  unit: SlaUnit;
  use: MetricUse;
  /** Thresholds are whole numbers (counts); false for gauges and for units other than `count`. */
  wholeNumbers: boolean;
  /** The value on a window, in the unit's base (µs, fraction, per second, count); null = nothing to judge. */
  measure(w: SlaWindow): number | null;
  /** For a count that may be written as a percentage (`duplicated < 0.1%`): the count / the window's operations. */
  perOperation?(): SlaMetric;
}

/** A metric as a line writes it, before the registry resolves it. */
export interface MetricRef {
  /** A distribution named before the metric: `e2e` in `e2e p99`. */
  subject?: string;
  /** The word: `p` for a percentile, `mean`, `rate`, `lag`. */
  name: string;
  /** With `p`: the percentile, in (0, 100]. */
  percentile?: number;
  /** In parentheses: `timeout` in `rate(timeout)`. */
  arg?: string;
}

/**
 * The names SLA lines may use for one workload: the core metrics of operations, the driver's
 * distributions (as subjects), counters, tallies (`share`), gauges and error kinds, and its
 * checkers' counts. Pure data and functions.
 */
export interface MetricRegistry {
  /** Every metric on offer, one entry each. */
  readonly entries: readonly MetricEntry[];
  /** The names on offer, as written in lines: `p<N>`, `mean`, …, `e2e <latency>`, `lag`, `lost`. */
  names(): string[];
  /** The error kinds `rate(…)` and `count(…)` take, families as declared (`http_<status>`). */
  errorKinds(): string[];
  /** The metric a line names; throws SlaSyntaxError listing what this workload offers. */
  resolve(ref: MetricRef): SlaMetric;
}

const anywhere: MetricUse = { run: true, scopes: ['before', 'during', 'after'], perSecond: true, recoveryDefault: false };
const health: MetricUse = { ...anywhere, recoveryDefault: true };
const afterFault: MetricUse = { run: false, scopes: ['after'], perSecond: false, recoveryDefault: false };
const aroundFault: MetricUse = { run: false, scopes: ['during', 'after'], perSecond: false, recoveryDefault: false };

const word = /^[A-Za-z_][\w-]*$/;
const backendName = /^[A-Za-z0-9._:-]+$/;
const latencyWords = ['mean', 'min', 'max'] as const;
const coreWords = ['errors', 'throughput', 'ops', 'requests', 'dropped', 'late', 'recovery', 'rate', 'count', 'share', 'cpu_per_op', 'rss', ...latencyWords];

type LatencyFigure = number | (typeof latencyWords)[number];

function latencyFigure(ref: MetricRef): LatencyFigure | undefined {
  if (ref.arg !== undefined) return undefined;
  if (ref.name === 'p') return ref.percentile;
  return (latencyWords as readonly string[]).includes(ref.name) ? (ref.name as LatencyFigure) : undefined;
}

function figureName(f: LatencyFigure): string {
  return typeof f === 'number' ? `p${f}` : f;
}

function readFigure(f: LatencyFigure, s: { latencyUs: LatencyFigures; histogram: string }): number {
  if (typeof f !== 'number') return s.latencyUs[f];
  const h = decodeHistogram(s.histogram);
  const v = h.getValueAtPercentile(f);
  h.destroy();
  return v;
}

/** A count judged as a percentage: the count over the window's operations. */
function perOperation(m: SlaMetric): SlaMetric {
  return {
    kind: m.kind,
    name: m.name,
    unit: 'fraction',
    use: m.use,
    wholeNumbers: false,
    measure: (w) => {
      const n = m.measure(w);
      return n === null || w.ops.ops === 0 ? null : n / w.ops.ops;
    },
  };
}

function secondsOf(w: SlaWindow): number[] {
  if (w.span.kind !== 'seconds') return [];
  const { from, to } = w.span;
  return Array.from({ length: Math.max(0, to - from) }, (_, i) => from + i);
}

/**
 * A checker count on a window: the whole-run value, or for a span of seconds its per-second
 * values (summed for a count; the largest for a fraction, which cannot be added); a count
 * scoped to faults reads its value during or after the span's fault.
 */
function checkValue(name: string, scope: 'any' | 'fault', w: SlaWindow): number | null {
  const c = w.checks[name];
  if (!c) return null;
  if (scope === 'fault') {
    const fault = w.span.kind === 'seconds' ? w.span.fault : undefined;
    if (!fault || fault.scope === 'before') return null;
    return c.byFault?.[fault.name]?.[fault.scope] ?? null;
  }
  if (w.span.kind === 'run') return c.value;
  const perSecond = c.perSecond;
  if (!perSecond) return null;
  const values = secondsOf(w).map((s) => perSecond[s] ?? 0);
  if (c.unit === 'count') return values.reduce((a, b) => a + b, 0);
  return values.length === 0 ? null : Math.max(...values);
}

function errorsOf(w: SlaWindow, covers: (recorded: string) => boolean): number {
  let n = 0;
  for (const [k, c] of Object.entries(w.ops.errorsByKind)) if (covers(k)) n += c;
  return n;
}

function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/** A copy without the g and y flags, whose `test` keeps no state between calls. */
function stateless(re: RegExp): RegExp {
  return new RegExp(re.source, re.flags.replace(/[gy]/g, ''));
}

/**
 * Which recorded error kinds a kind written in a line covers, or undefined when the workload
 * has no such kind. In order: a declared name other than a `<placeholder>` one (a family
 * covers what its `matches` accepts); a class, digits written x (`http_5xx`), of a family
 * that accepts it or its `…500` form; one kind of a family (`http_503`), exactly.
 */
function kindCover(kinds: readonly ErrorKind[], kind: string): ((recorded: string) => boolean) | undefined {
  const declared = kinds.find((k) => k.name === kind && !k.name.includes('<'));
  if (declared) {
    const matches = declared.matches && stateless(declared.matches);
    return matches ? (r) => matches.test(r) : (r) => r === kind;
  }
  const families = kinds.flatMap((k) => (k.matches ? [stateless(k.matches)] : []));
  const cls = /^(.*\d)(x+)$/.exec(kind);
  if (cls) {
    const [, prefix, xs] = cls as unknown as [string, string, string];
    const example = prefix + '0'.repeat(xs.length);
    if (families.some((f) => f.test(kind) || f.test(example))) {
      const re = new RegExp(`^${escapeRegExp(prefix)}\\d{${xs.length}}$`);
      return (r) => re.test(r);
    }
  }
  if (families.some((f) => f.test(kind))) return (r) => r === kind;
  return undefined;
}

/** One registry entry with how it becomes a metric for a line. */
interface Offer extends MetricEntry {
  /** What follows its word: nothing, an argument in parentheses, or (for a distribution, named as a subject) a latency figure. */
  takes: 'none' | 'arg' | 'figure';
  /** A count: thresholds are whole numbers; `or-share` may also be written as a percentage of operations. */
  counts?: 'whole' | 'or-share';
  /** The metric's name and measure for what the line wrote; throws SlaSyntaxError for an argument it does not take. */
  bind(ref: MetricRef): { name: string; measure: SlaMetric['measure'] };
}

function metricOf(o: Offer, ref: MetricRef): SlaMetric {
  const { name, measure } = o.bind(ref);
  const m: SlaMetric = { kind: o.kind, name, unit: o.unit, use: o.use, wholeNumbers: o.counts !== undefined, measure };
  if (o.counts === 'or-share') m.perOperation = () => perOperation(m);
  return m;
}

function written(ref: MetricRef): string {
  const metric = `${ref.name === 'p' && ref.percentile !== undefined ? `p${ref.percentile}` : ref.name}${ref.arg !== undefined ? `(${ref.arg})` : ''}`;
  return ref.subject === undefined ? metric : `${ref.subject} ${metric}`;
}

/**
 * Builds the SLA metric registry of one workload from its driver's vocabulary and checkers.
 * Throws FaultlineError (`internal`) when the driver declares a name twice, reuses a core
 * metric's name, or declares one a line cannot write.
 */
export function buildRegistry(def: { vocabulary: Vocabulary; checkers?: readonly CheckerDefinition[] }): MetricRegistry {
  const v = def.vocabulary;
  const declaredBy = new Map<string, string>(coreWords.map((w) => [w, 'a core metric']));
  const declare = (name: string, what: string): void => {
    if (!word.test(name) || /^p\d/.test(name)) {
      throw new FaultlineError('internal', `${what} '${name}' cannot be written in an SLA line`, { hint: 'use letters, digits, _ and -, starting with a letter (and not p followed by digits)' });
    }
    const other = declaredBy.get(name);
    if (other) throw new FaultlineError('internal', `${what} '${name}' has the name of ${other}`, { hint: "names are unique across a workload's metrics and its checkers' counts" });
    declaredBy.set(name, what);
  };
  const distributions = [...Object.entries(CORE_DISTRIBUTIONS), ...Object.entries(v.distributions ?? {})];
  const counters = Object.entries(v.counters ?? {});
  const gauges = Object.entries(v.gauges ?? {});
  const checks = (def.checkers ?? []).flatMap((c) => Object.entries(c.counts).map(([name, d]) => ({ name, checker: c.name, ...d })));
  for (const [name] of distributions) declare(name, 'the distribution');
  for (const [name] of counters) declare(name, 'the counter');
  for (const [name] of gauges) declare(name, 'the gauge');
  for (const c of checks) declare(c.name, `the count '${c.name}' of checker '${c.checker}'`);
  const shareTally = v.tallies?.[SHARE_TALLY];

  const errorKinds = (): string[] => v.errorKinds.map((k) => k.name);
  const cover = (kind: string): ((recorded: string) => boolean) => {
    const c = kindCover(v.errorKinds, kind);
    if (!c) throw new SlaSyntaxError(`unknown error kind '${kind}'; this workload records: ${errorKinds().join(', ')}`);
    return c;
  };
  const opsLatency = (f: LatencyFigure) => ({ name: figureName(f), measure: (w: SlaWindow) => (w.ops.latencyUs.max > 0 ? readFigure(f, w.ops) : null) });
  const fixed = (name: string, measure: SlaMetric['measure']) => () => ({ name, measure });

  const offers: Offer[] = [
    {
      kind: 'latency', name: 'p<N>', unit: 'latency', use: health, takes: 'none',
      description: 'the N-th percentile of operation latency (from the intended send time in the open model), from merged histograms',
      bind: (r) => {
        if (r.percentile === undefined) throw unknown(written(r));
        return opsLatency(r.percentile);
      },
    },
    { kind: 'latency', name: 'mean', unit: 'latency', use: health, takes: 'none', description: 'mean operation latency', bind: () => opsLatency('mean') },
    { kind: 'latency', name: 'min', unit: 'latency', use: health, takes: 'none', description: 'smallest operation latency', bind: () => opsLatency('min') },
    { kind: 'latency', name: 'max', unit: 'latency', use: health, takes: 'none', description: 'largest operation latency', bind: () => opsLatency('max') },
    {
      kind: 'errors', name: 'errors', unit: 'fraction', use: health, takes: 'none', description: 'failed operations / all operations',
      bind: fixed('errors', (w) => (w.ops.ops === 0 ? null : w.ops.errors / w.ops.ops)),
    },
    {
      kind: 'rate', name: 'rate(<kind>)', unit: 'fraction', use: health, takes: 'arg', description: 'operations that failed with that error kind / all operations',
      bind: (r) => {
        const covers = cover(r.arg!);
        return { name: `rate(${r.arg})`, measure: (w) => (w.ops.ops === 0 ? null : errorsOf(w, covers) / w.ops.ops) };
      },
    },
    {
      kind: 'count', name: 'count(<kind>)', unit: 'count', use: anywhere, takes: 'arg', counts: 'or-share', description: 'operations that failed with that error kind',
      bind: (r) => {
        const covers = cover(r.arg!);
        return { name: `count(${r.arg})`, measure: (w) => errorsOf(w, covers) };
      },
    },
    { kind: 'throughput', name: 'throughput', unit: 'per-second', use: anywhere, takes: 'none', description: 'successful operations per second', bind: fixed('throughput', (w) => w.ops.throughput) },
    { kind: 'ops', name: 'ops', unit: 'count', use: anywhere, takes: 'none', counts: 'whole', description: 'operations completed, success or error (`requests` is the same)', bind: (r) => ({ name: r.name, measure: (w) => w.ops.ops }) },
    { kind: 'dropped', name: 'dropped', unit: 'count', use: anywhere, takes: 'none', counts: 'or-share', description: 'open model: sends skipped because the in-flight cap was reached', bind: fixed('dropped', (w) => w.dropped) },
    { kind: 'late', name: 'late', unit: 'count', use: anywhere, takes: 'none', counts: 'or-share', description: 'open model: sends dispatched later than the lateness bound after their intended time', bind: fixed('late', (w) => w.late) },
    {
      kind: 'recovery', name: 'recovery', unit: 'latency', use: afterFault, takes: 'none',
      description: 'after a fault: time from its end until the per-second figures are back inside the recovery thresholds and stay there',
      bind: fixed('recovery', (w) => w.recoveryUs ?? null),
    },
    {
      kind: 'cpu_per_op', name: 'cpu_per_op', unit: 'latency', use: anywhere, takes: 'none',
      description: "CPU time (user + system) the design's services used per completed operation, the load generator's not counted",
      bind: fixed('cpu_per_op', (w) => w.resources?.cpuUsPerOp ?? null),
    },
    {
      kind: 'rss', name: 'rss', unit: 'bytes', use: anywhere, takes: 'none',
      description: "resident memory of the design's services together, at its largest per-second sample",
      bind: fixed('rss', (w) => w.resources?.peakRssBytes ?? null),
    },
    ...(shareTally
      ? [{
          kind: 'share', name: 'share(<backend>)', unit: 'fraction', use: anywhere, takes: 'arg',
          description: `${shareTally.description}: this backend's part of the tally '${SHARE_TALLY}'`,
          bind: (r: MetricRef) => {
            const b = r.arg!;
            if (!backendName.test(b)) throw new SlaSyntaxError("share takes a backend (or process) name of letters, digits and ._:-, e.g. 'share(backend-1) < 25%'");
            return {
              name: `share(${b})`,
              measure: (w: SlaWindow) => {
                const t = w.tallies[SHARE_TALLY] ?? {};
                const all = Object.values(t).reduce((a, n) => a + n, 0);
                return all === 0 ? null : (t[b] ?? 0) / all;
              },
            };
          },
        } satisfies Offer]
      : []),
    ...distributions.map(([d, info]): Offer => ({
      kind: 'distribution', name: `${d} <latency>`, unit: 'latency', use: health, takes: 'figure', description: `${info.description}: p<N>, mean, min or max`,
      bind: (r) => {
        const f = latencyFigure(r);
        if (f === undefined) throw new SlaSyntaxError(`after the distribution '${d}' comes p<N>, mean, min or max, e.g. '${d} p99 < 50ms'`);
        return {
          name: `${d} ${figureName(f)}`,
          measure: (w) => {
            const stats = w.distributions[d];
            return stats && stats.count > 0 ? readFigure(f, stats) : null;
          },
        };
      },
    })),
    ...counters.map(([c, info]): Offer => ({ kind: 'counter', name: c, unit: 'count', use: anywhere, takes: 'none', counts: 'or-share', description: info.description, bind: fixed(c, (w) => w.counters[c] ?? 0) })),
    ...gauges.map(([g, info]): Offer => ({ kind: 'gauge', name: g, unit: 'count', use: anywhere, takes: 'none', description: `${info.description} (its largest sample in the window)`, bind: fixed(g, (w) => w.gauges[g] ?? null) })),
    ...checks.map((c): Offer => {
      const scope = c.scope ?? 'any';
      return {
        kind: 'check', name: c.name, unit: c.unit, use: scope === 'fault' ? aroundFault : anywhere, takes: 'none', ...(c.unit === 'count' ? { counts: 'or-share' as const } : {}), description: c.description,
        bind: fixed(c.name, (w) => checkValue(c.name, scope, w)),
      };
    }),
  ];

  const entries: MetricEntry[] = offers.map(({ kind, name, description, unit, use }) => ({ kind, name, description, unit, use }));
  const names = (): string[] => entries.map((e) => e.name);
  function unknown(text: string): SlaSyntaxError {
    return new SlaSyntaxError(`unknown metric '${text}'; this workload offers: ${names().join(', ')}`);
  }
  const byWord = new Map<string, Offer>();
  const bySubject = new Map<string, Offer>();
  for (const o of offers) {
    if (o.takes === 'figure') bySubject.set(o.name.split(' ')[0]!, o);
    else byWord.set(o.name === 'p<N>' ? 'p' : o.name.replace(/\(.*$/, ''), o);
  }
  byWord.set('requests', byWord.get('ops')!);

  function resolve(ref: MetricRef): SlaMetric {
    if (ref.subject !== undefined) {
      const o = bySubject.get(ref.subject);
      if (!o) throw unknown(written(ref));
      return metricOf(o, ref);
    }
    const o = byWord.get(ref.name);
    if (!o) {
      if (bySubject.has(ref.name)) throw new SlaSyntaxError(`'${ref.name}' is a distribution: write '${ref.name} p99', '${ref.name} mean', '${ref.name} min' or '${ref.name} max'`);
      throw unknown(written(ref));
    }
    if (o.takes === 'arg' && ref.arg === undefined) throw new SlaSyntaxError(`${ref.name} takes ${o.kind === 'share' ? 'a backend' : 'an error kind'} in parentheses, e.g. '${o.kind === 'share' ? 'share(backend-1)' : `${ref.name}(timeout)`}'`);
    if (o.takes !== 'arg' && ref.arg !== undefined) throw unknown(written(ref));
    return metricOf(o, ref);
  }

  return { entries, names, errorKinds, resolve };
}
