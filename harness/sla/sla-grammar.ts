/*
 * The SLA line grammar. One line states one bound on one metric of a design's measured window.
 * White space between tokens is optional. Examples: `p99 < 100ms`, `p(99.9) <= 1s`,
 * `mean < 20ms`, `errors < 0.5%`, `throughput >= 1000/s`, `count(timeout) == 0`.
 *
 *   line        = metric op value
 *   metric      = latency | "errors" | "rate(" kind ")" | "throughput"
 *               | "requests" | "count(" kind ")" | "dropped" | "late" | "recovery"
 *               | "share(" backend ")" | "remapped"
 *   latency     = "p" number | "p(" number ")" | "mean" | "min" | "max"
 *   kind        = "timeout" | "refused" | "reset" | "other" | "http_" status | "http_" digit "xx"
 *   op          = "<" | "<=" | ">" | ">=" | "==" | "!="
 *   value       = number unit
 *   unit        = "us" | "µs" | "ms" | "s"   (latency metrics and recovery: a unit is required)
 *               | "%"                       (errors, rate(kind), share, remapped: a percentage)
 *               | "/s"                      (throughput: per second)
 *               | ""                        (requests, count(kind), dropped, late: a whole count)
 *   number      = digit+ [ "." digit+ ]
 *
 * Metrics, over the measured window:
 *   pN          the N-th percentile of response latency (from the intended send time in the
 *               open model), read from the merged HDR histogram, never from averaged ones
 *   mean, min, max  of response latency
 *   errors      failed operations / all operations (responses with an error status,
 *               timeouts, refused and reset connections)
 *   rate(kind)  operations that failed with that kind / all operations
 *   throughput  successful operations per second of the window
 *   requests    all operations completed (success or error)
 *   count(kind) operations that failed with that kind
 *   dropped     open model: sends skipped because the in-flight cap was reached
 *   late        open model: sends dispatched more than the lateness bound after their
 *               intended time (the generator could not keep up)
 *   share(b)    responses served by backend (or process) b / all responses, by the
 *               `x-served-by` header: `share(backend-1) < 25%`
 *   remapped    only in a line scoped `during` or `after` a fault, for a workload with keys:
 *               the keys served by another backend than before the fault / all keys seen
 *   recovery    only in a line scoped `after` a fault: time from the fault's end until the
 *               per-second figures are back inside the recovery thresholds (and stay there
 *               for 2 seconds or to the end); "never" fails
 */

export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';

/** A parsed metric reference. Latency values are in microseconds, rates are fractions. */
export type SlaMetric =
  | { kind: 'percentile'; percentile: number }
  | { kind: 'mean' | 'min' | 'max' }
  | { kind: 'errors' }
  | { kind: 'rate'; errorKind: string }
  | { kind: 'throughput' }
  | { kind: 'requests' | 'dropped' | 'late' }
  | { kind: 'recovery' | 'remapped' }
  | { kind: 'share'; backend: string }
  | { kind: 'count'; errorKind: string };

/** What a metric's value is measured in. */
export type SlaUnit = 'latency' | 'fraction' | 'per-second' | 'count';

export interface SlaExpression {
  /** The line as written. */
  source: string;
  metric: SlaMetric;
  op: Comparator;
  /** Threshold in the metric's base unit: µs for latency, a fraction for rates, per second, a count. */
  threshold: number;
  unit: SlaUnit;
}

export class SlaSyntaxError extends Error {
  override name = 'SlaSyntaxError';
}

/** Error kinds the HTTP driver records; `http_503` and `http_5xx` are matched by pattern. */
export const errorKinds = ['timeout', 'refused', 'reset', 'other'] as const;
const errorKindPattern = /^(timeout|refused|reset|other|http_[1-5]\d\d|http_[1-5]xx)$/;

const latencyUnits: Record<string, number> = { us: 1, 'µs': 1, ms: 1000, s: 1_000_000 };
const lineRe = /^\s*([a-z]+(?:\([^)]*\))?|p\d+(?:\.\d+)?)\s*(<=|>=|==|!=|<|>)\s*(-?\d+(?:\.\d+)?)\s*(us|µs|ms|s|%|\/s)?\s*$/;

/** Parses one SLA line, or throws SlaSyntaxError saying what is wrong and what is expected. */
export function parseSla(source: string): SlaExpression {
  const m = lineRe.exec(source);
  if (!m) {
    throw new SlaSyntaxError(`cannot read SLA line '${source}': expected '<metric> <op> <value>', e.g. 'p99 < 100ms', 'errors < 0.5%', 'throughput >= 1000/s'`);
  }
  const [, metricText, opText, numberText, unitText] = m as unknown as [string, string, Comparator, string, string | undefined];
  const metric = parseMetric(metricText, source);
  const n = Number(numberText);
  const unit = unitOf(metric);
  const need = (want: string, example: string): never => {
    throw new SlaSyntaxError(`SLA line '${source}': ${metricText} needs ${want}, e.g. '${example}'`);
  };
  let threshold: number;
  switch (unit) {
    case 'latency':
      if (!unitText || !(unitText in latencyUnits)) need('a time unit (us, ms or s)', `${metricText} < 100ms`);
      threshold = n * latencyUnits[unitText!]!;
      break;
    case 'fraction':
      if (unitText !== '%') need('a percentage', `${metricText} < 0.5%`);
      threshold = n / 100;
      break;
    case 'per-second':
      if (unitText !== '/s') need('a rate per second', `${metricText} >= 1000/s`);
      threshold = n;
      break;
    case 'count':
      if (unitText !== undefined || !Number.isInteger(n)) need('a whole count with no unit', `${metricText} == 0`);
      threshold = n;
      break;
  }
  return { source: source.trim(), metric, op: opText, threshold, unit };
}

function parseMetric(text: string, source: string): SlaMetric {
  const pct = /^p(?:\((\d+(?:\.\d+)?)\)|(\d+(?:\.\d+)?))$/.exec(text);
  if (pct) {
    const p = Number(pct[1] ?? pct[2]);
    if (!(p > 0 && p <= 100)) throw new SlaSyntaxError(`SLA line '${source}': percentile ${p} is outside (0, 100]`);
    return { kind: 'percentile', percentile: p };
  }
  const share = /^share\(([A-Za-z0-9._:-]+)\)$/.exec(text);
  if (share) return { kind: 'share', backend: share[1]! };
  const call = /^(count|rate)\(([^)]*)\)$/.exec(text);
  if (call) {
    const errorKind = call[2]!.trim();
    if (!errorKindPattern.test(errorKind)) {
      throw new SlaSyntaxError(`SLA line '${source}': unknown error kind '${errorKind}'; valid kinds: ${errorKinds.join(', ')}, http_<status> (http_503), http_<class>xx (http_5xx)`);
    }
    return call[1] === 'count' ? { kind: 'count', errorKind } : { kind: 'rate', errorKind };
  }
  switch (text) {
    case 'mean':
    case 'min':
    case 'max':
    case 'errors':
    case 'throughput':
    case 'requests':
    case 'dropped':
    case 'late':
    case 'recovery':
    case 'remapped':
      return { kind: text };
  }
  throw new SlaSyntaxError(`SLA line '${source}': unknown metric '${text}'; valid metrics: p50, p99, p99.9 (any percentile), mean, min, max, errors, rate(kind), throughput, requests, count(kind), dropped, late, recovery, share(backend), remapped`);
}

function unitOf(metric: SlaMetric): SlaUnit {
  switch (metric.kind) {
    case 'percentile':
    case 'mean':
    case 'min':
    case 'max':
    case 'recovery':
      return 'latency';
    case 'errors':
    case 'rate':
    case 'share':
    case 'remapped':
      return 'fraction';
    case 'throughput':
      return 'per-second';
    default:
      return 'count';
  }
}

/** Whether an error kind recorded by a driver matches a kind named in an SLA line. */
export function errorKindMatches(pattern: string, recorded: string): boolean {
  if (pattern === recorded) return true;
  const cls = /^http_([1-5])xx$/.exec(pattern);
  return cls !== null && new RegExp(`^http_${cls[1]}\\d\\d$`).test(recorded);
}

export function compare(value: number, op: Comparator, threshold: number): boolean {
  switch (op) {
    case '<': return value < threshold;
    case '<=': return value <= threshold;
    case '>': return value > threshold;
    case '>=': return value >= threshold;
    case '==': return value === threshold;
    case '!=': return value !== threshold;
  }
}
