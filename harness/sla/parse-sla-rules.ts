import { formatDuration, parseDuration } from '../base/duration.ts';
import type { MetricRegistry } from './metric-registry.ts';
import { parseSla, SlaSyntaxError, type SlaExpression } from './sla-grammar.ts';
import type { SlaRule, SlaScope } from './sla-rule.ts';

type Problems = { path: string; message: string }[];

const scopeKinds = ['before', 'during', 'after'] as const;

function oneOf(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

function parse(line: unknown, path: string, registry: MetricRegistry, problems: Problems): SlaExpression | undefined {
  // A line that is not a string was reported by the scenario's schema.
  if (typeof line !== 'string') return undefined;
  try {
    return parseSla(line, registry);
  } catch (err) {
    if (!(err instanceof SlaSyntaxError)) throw err;
    problems.push({ path, message: err.message });
    return undefined;
  }
}

function scopeList(kinds: readonly SlaScope['kind'][], fault: string): string {
  return kinds.map((k) => `${k}: '${fault}'`).join(' or ');
}

/** Parses one plain or fault-scoped SLA entry (index `i`), reporting its problems. */
function parseSlaEntry(entry: unknown, i: number, faultNames: readonly string[], registry: MetricRegistry, problems: Problems): SlaRule | undefined {
  if (typeof entry === 'string') {
    const expr = parse(entry, `sla[${i}]`, registry, problems);
    if (!expr) return undefined;
    const { use, name } = expr.metric;
    if (use.run) return { expr, display: expr.source };
    const where = use.scopes.length === 1 ? `${use.scopes[0]} a fault` : 'around a fault';
    problems.push({ path: `sla[${i}]`, message: `${name} is measured ${where}: write { ${use.scopes[0]}: '<fault>', check: '${expr.source}' }` });
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as Partial<Record<'before' | 'during' | 'after' | 'check' | 'for' | 'hold', unknown>> & { until?: unknown };
  const kinds = scopeKinds.filter((k) => e[k] !== undefined);
  if (kinds.length !== 1) {
    problems.push({ path: `sla[${i}]`, message: "a scoped SLA line names one fault with exactly one of before, during or after, e.g. { during: 'slow', check: 'p99 < 250ms' }" });
    return undefined;
  }
  const kind = kinds[0]!;
  const fault = e[kind];
  if (typeof fault !== 'string') return undefined;
  if (!faultNames.includes(fault)) problems.push({ path: `sla[${i}].${kind}`, message: `no fault named '${fault}'; faults: ${faultNames.length ? oneOf(faultNames) : '(none)'}` });
  if (e.for !== undefined && kind !== 'after') problems.push({ path: `sla[${i}].for`, message: 'for goes with after (how long after the fault to judge)' });
  const expr = parse(e.check, `sla[${i}].check`, registry, problems);
  if (!expr) return undefined;
  const { use, name } = expr.metric;
  if (!use.scopes.includes(kind)) {
    const where = use.scopes.length === 1 ? `${use.scopes[0]} a fault` : `${use.scopes.join(' or ')} a fault`;
    problems.push({ path: `sla[${i}].check`, message: `${name} is measured ${where}: use ${scopeList(use.scopes, fault)}` });
  }
  const isRecovery = expr.metric.kind === 'recovery';
  if (e.until !== undefined && !isRecovery) problems.push({ path: `sla[${i}].until`, message: 'until goes with a recovery check' });
  if (e.hold !== undefined && !isRecovery) problems.push({ path: `sla[${i}].hold`, message: 'hold goes with a recovery check (how long the thresholds must keep holding)' });
  const holdMs = isRecovery && typeof e.hold === 'string' ? parseDuration(e.hold) : undefined;
  const until: SlaExpression[] = [];
  const untilLines = isRecovery && Array.isArray(e.until) ? (e.until as unknown[]) : [];
  for (const [j, u] of untilLines.entries()) {
    const p = parse(u, `sla[${i}].until[${j}]`, registry, problems);
    if (p && !p.metric.use.perSecond) problems.push({ path: `sla[${i}].until[${j}]`, message: `'${p.source}' cannot judge a single second; use a metric with a value per second (latency, errors, a counter, a gauge, a distribution)` });
    else if (p) until.push(p);
  }
  const forMs = typeof e.for === 'string' ? parseDuration(e.for) : undefined;
  return {
    expr,
    display: `${kind} ${fault}${forMs !== undefined ? ` (${formatDuration(forMs)})` : ''}: ${expr.source}`,
    scope: { kind, fault, ...(forMs !== undefined ? { forMs } : {}) },
    ...(isRecovery && e.until !== undefined ? { until } : {}),
    ...(holdMs !== undefined ? { holdMs } : {}),
  };
}

/**
 * Parses a scenario's plain and fault-scoped SLA lines against a workload's registry, pushing
 * every problem (each naming its path, `sla[2].check`) onto `problems`. A recovery line without
 * `until` gets the whole-run lines on latency (of operations or a distribution) and errors as its thresholds.
 */
export function parseSlaRules(entries: readonly unknown[], faultNames: readonly string[], registry: MetricRegistry, problems: { path: string; message: string }[]): SlaRule[] {
  const parsed = entries.map((entry, i) => parseSlaEntry(entry, i, faultNames, registry, problems));
  const wholeRun = parsed.filter((r): r is SlaRule => r !== undefined && !r.scope && r.expr.metric.use.recoveryDefault).map((r) => r.expr);
  return parsed.flatMap((r, i) => {
    if (!r) return [];
    if (r.expr.metric.kind !== 'recovery' || r.until) return [r];
    if (wholeRun.length === 0) problems.push({ path: `sla[${i}]`, message: "recovery needs thresholds: give until: ['p99 < 100ms', 'errors < 1%'], or whole-run latency or error lines" });
    return [{ ...r, until: wholeRun }];
  });
}
