/*
 * The SLA line grammar. One line states one bound on one metric of a design's run. White
 * space between tokens is optional, except after a subject. Which names exist depends on the
 * workload: the core metrics below, plus what its driver and checkers declare, resolved
 * through one registry (metric-registry.ts); an unknown name lists the ones on offer.
 * Examples: `p99 < 100ms`, `p(99.9) <= 1s`, `errors < 0.5%`, `throughput >= 1000/s`,
 * `count(timeout) == 0`, `rate(grpc_unavailable) < 1%`, `e2e p99 < 50ms`,
 * `publish p99.9 < 20ms`, `lag < 1000`, `lost == 0`, `duplicated < 0.1%`,
 * `share(backend-1) < 25%`, `ops >= 100`, `redeliveries < 10`, `cpu_per_op < 200us`, `rss < 512MB`.
 *
 *   line        = [ subject ws ] metric op value
 *   subject     = name                           (a distribution of the workload: `e2e`, `publish`)
 *   metric      = latency
 *               | "errors" | "rate(" kind ")" | "count(" kind ")" | "throughput"
 *               | "ops" | "requests" | "dropped" | "late" | "recovery" | "cpu_per_op" | "rss"
 *               | "share(" key ")"
 *               | name                           (a counter, gauge or checker count of the workload)
 *   latency     = "p" number | "p(" number ")" | "mean" | "min" | "max"
 *   kind        = an error kind of the workload: a declared name (`timeout`, `grpc_unavailable`),
 *                 one kind of a family (`http_503` of `http_<status>`), or a class of one with
 *                 x for digits (`http_5xx`)
 *   key         = ( letter | digit | "." | "_" | ":" | "-" )+
 *   name        = ( letter | "_" ) ( letter | digit | "_" | "-" )*
 *   op          = "<" | "<=" | ">" | ">=" | "==" | "!="
 *   value       = number unit
 *   unit        = "us" | "µs" | "ms" | "s"   (latency, a subject's latency, recovery, cpu_per_op:
 *                                            required)
 *               | "B" | "KB" | "MB" | "GB"  (rss: required; powers of 1024, so 1KB = 1024 B)
 *               | "%"                       (errors, rate, share, fraction checker counts; and any
 *                                            count but ops, read as count / operations)
 *               | "/s"                      (throughput)
 *               | ""                        (ops, count, dropped, late, counters, checker counts:
 *                                            a whole count; gauges: any number)
 *   number      = [ "-" ] digit+ [ "." digit+ ]
 *
 * Core metrics, over the window the line is judged on:
 *   pN, mean, min, max   operation latency (from the intended send time in the open model);
 *               percentiles from the merged HDR histogram, never from averaged ones
 *   errors      failed operations / all operations
 *   rate(kind)  operations that failed with that kind / all operations
 *   count(kind) operations that failed with that kind
 *   throughput  successful operations per second of the window
 *   ops         operations completed (success or error); `requests` means the same
 *   dropped     open model: sends skipped because the in-flight cap was reached
 *   late        open model: sends dispatched more than the lateness bound after their
 *               intended time (the generator could not keep up)
 *   recovery    only in a line scoped `after` a fault: time from the fault's end until the
 *               per-second figures are back inside the recovery thresholds (and stay there
 *               for 2 seconds or to the end); "never" fails
 *   cpu_per_op  CPU time (user + system) of the design's services, not the load generator,
 *               per completed operation
 *   rss         resident memory of the design's services together, at its largest sample
 *               (each second)
 * From the workload's vocabulary and checkers:
 *   d pN, d mean, d min, d max   latency of the distribution d (`e2e p99`)
 *   share(b)    b's part of the tally `served_by` (responses per backend or process)
 *   counter     its total in the window
 *   gauge       its largest sample in the window
 *   check count its value; a count scoped to faults (`remapped`) only in a line scoped
 *               `during` or `after` a fault, where it reads that fault's value
 *
 * Every metric but recovery and fault-scoped counts has a value per second, so it may be
 * judged in `before`, `during` and `after` lines (on the merged seconds of the scope) and
 * define recovery (`until`). A line with nothing to judge (no data) fails.
 */

import type { Comparator, SlaUnit } from '../result/result.ts';
import type { MetricRef, MetricRegistry, SlaMetric } from './metric-registry.ts';

/** One SLA line, parsed and resolved against a workload's registry. */
export interface SlaExpression {
  /** The line as written, trimmed. */
  source: string;
  metric: SlaMetric;
  op: Comparator;
  /** Threshold in the unit's base: µs for latency, a fraction for percentages, per second, a count, bytes. */
  threshold: number;
  /** The unit the line is judged in: the metric's, or `fraction` for a count written as a percentage. */
  unit: SlaUnit;
}

/** An SLA line that cannot be read or names something the workload does not offer. */
export class SlaSyntaxError extends Error {
  override name = 'SlaSyntaxError';
}

const latencyUnits: Record<string, number> = { us: 1, 'µs': 1, ms: 1000, s: 1_000_000 };
const byteUnits: Record<string, number> = { B: 1, KB: 1024, MB: 1024 ** 2, GB: 1024 ** 3 };
const num = String.raw`\d+(?:\.\d+)?`;
const name = String.raw`[A-Za-z_][\w-]*`;
const metricText = String.raw`p${num}|p\(\s*${num}\s*\)|${name}(?:\(\s*[^()]*?\s*\))?`;
const lineRe = new RegExp(String.raw`^\s*(?:(${name})\s+)?(${metricText})\s*(<=|>=|==|!=|<|>)\s*(-?${num})\s*(us|µs|ms|s|%|\/s|KB|MB|GB|B)?\s*$`);
const percentileRe = new RegExp(String.raw`^p(?:\(\s*(${num})\s*\)|(${num}))$`);
const callRe = new RegExp(String.raw`^(${name})\(\s*([^()]*?)\s*\)$`);

function readRef(subject: string | undefined, text: string): MetricRef {
  const sub = subject === undefined ? {} : { subject };
  const pct = percentileRe.exec(text);
  if (pct) {
    const p = Number(pct[1] ?? pct[2]);
    if (!(p > 0 && p <= 100)) throw new SlaSyntaxError(`percentile ${p} is outside (0, 100]`);
    return { ...sub, name: 'p', percentile: p };
  }
  const call = callRe.exec(text);
  if (call) return { ...sub, name: call[1]!, arg: call[2]! };
  return { ...sub, name: text };
}

/**
 * Parses one SLA line and resolves its metric in `registry`, or throws SlaSyntaxError saying
 * what is wrong and what is expected (for an unknown name: the names this workload offers).
 */
export function parseSla(source: string, registry: MetricRegistry): SlaExpression {
  try {
    return parseLine(source, registry);
  } catch (err) {
    if (err instanceof SlaSyntaxError) throw new SlaSyntaxError(`SLA line '${source}': ${err.message}`);
    throw err;
  }
}

function parseLine(source: string, registry: MetricRegistry): SlaExpression {
  const m = lineRe.exec(source);
  if (!m) throw new SlaSyntaxError("expected '[subject] <metric> <op> <value>', e.g. 'p99 < 100ms', 'errors < 0.5%', 'e2e p99 < 50ms', 'lost == 0'");
  const [, subject, text, op, numberText, unitText] = m as unknown as [string, string | undefined, string, Comparator, string, string | undefined];
  let metric = registry.resolve(readRef(subject, text));
  const n = Number(numberText);
  const written = subject === undefined ? text : `${subject} ${text}`;
  const need = (want: string, example: string): never => {
    throw new SlaSyntaxError(`${written} needs ${want}, e.g. '${written} ${example}'`);
  };
  let threshold: number;
  switch (metric.unit) {
    case 'latency':
      if (unitText === undefined || !(unitText in latencyUnits)) need('a time unit (us, ms or s)', '< 100ms');
      threshold = n * latencyUnits[unitText!]!;
      break;
    case 'fraction':
      if (unitText !== '%') need('a percentage', '< 0.5%');
      threshold = n / 100;
      break;
    case 'per-second':
      if (unitText !== '/s') need('a rate per second', '>= 1000/s');
      threshold = n;
      break;
    case 'bytes':
      if (unitText === undefined || !(unitText in byteUnits)) need('a size (B, KB, MB or GB, powers of 1024)', '< 512MB');
      threshold = n * byteUnits[unitText!]!;
      break;
    case 'count':
      if (unitText === '%' && metric.perOperation) {
        metric = metric.perOperation();
        threshold = n / 100;
        break;
      }
      if (unitText !== undefined || (metric.wholeNumbers && !Number.isInteger(n))) {
        if (!metric.wholeNumbers) need('a number with no unit', '< 1000');
        need(`a whole count with no unit${metric.perOperation ? ', or a percentage of operations' : ''}`, '== 0');
      }
      threshold = n;
      break;
  }
  return { source: source.trim(), metric, op, threshold, unit: metric.unit };
}

/** Whether `value op threshold` holds. */
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
