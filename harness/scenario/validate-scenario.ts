import { defaultImages, type ImageKey } from '../runtime/images.ts';
import { z } from 'zod';
import { targets } from '../../targets/index.ts';
import { drivers } from '../drivers/index.ts';
import { faultSchema, type Fault } from '../faults/fault-spec.ts';
import { linkNames, type Topology } from '../runtime/service-spec.ts';
import { parseSla, SlaSyntaxError, type SlaExpression } from '../sla/sla-grammar.ts';
import { judgesOneSecond, type SlaRule } from '../sla/sla-rule.ts';
import { formatDuration, parseDuration } from '../base/duration.ts';
import type { Scenario, ScopedSla } from './scenario.ts';
import { durationSchema } from '../base/schema-helpers.ts';

/** One problem found in a scenario: where (a field path such as `designs.single.options.workers`) and what. */
export interface Problem {
  path: string;
  message: string;
}

/** A scenario that passed validation, with durations in ms and SLA lines parsed. */
export interface ValidScenario {
  scenario: Scenario;
  warmupMs: number;
  durationMs: number;
  sla: SlaRule[];
  faults: Fault[];
  /** Each design's topology (computed once, from its validated options). */
  topologies: Record<string, Topology>;
}

const DEFAULT_WARMUP = '2s';
const designName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const shape = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and - (it names the output folder)'),
  description: z.string().min(1, 'say in a sentence what question this scenario answers'),
  designs: z.record(z.string(), z.strictObject({ target: z.string(), options: z.unknown().optional() })),
  workload: z.looseObject({ protocol: z.string() }),
  warmup: durationSchema.optional(),
  duration: durationSchema,
  sla: z.array(z.union([z.string(), z.strictObject({
    before: z.string().optional(),
    during: z.string().optional(),
    after: z.string().optional(),
    check: z.string(),
    for: durationSchema.optional(),
    until: z.array(z.string()).min(1).optional(),
  })])).optional(),
  faults: z.array(faultSchema).optional(),
  images: z.partialRecord(z.enum(Object.keys(defaultImages) as [ImageKey, ...ImageKey[]]), z.string().regex(/^\S+$/, 'an image reference such as haproxy:2.8')).optional(),
});

function pathOf(prefix: (string | number)[], path: readonly PropertyKey[]): string {
  return [...prefix, ...path].map((p, i) => (typeof p === 'number' ? `[${p}]` : `${i === 0 ? '' : '.'}${String(p)}`)).join('');
}

function collect(problems: Problem[], prefix: (string | number)[], result: z.ZodSafeParseResult<unknown>): void {
  if (result.success) return;
  for (const issue of result.error.issues) {
    if (issue.code === 'unrecognized_keys') {
      for (const key of issue.keys) problems.push({ path: pathOf(prefix, [...issue.path, key]), message: 'unknown field (check its spelling)' });
    } else {
      problems.push({ path: pathOf(prefix, issue.path) || '(scenario)', message: issue.message });
    }
  }
}

function oneOf(names: readonly string[]): string {
  return names.map((n) => `'${n}'`).join(', ');
}

/**
 * Checks a scenario and returns every problem at once (never only the first), each naming its
 * field path; or the scenario with durations and SLA lines parsed.
 */
export function validateScenario(input: unknown): { ok: true; value: ValidScenario } | { ok: false; problems: Problem[] } {
  const problems: Problem[] = [];
  const top = shape.safeParse(input);
  collect(problems, [], top);
  const raw = (typeof input === 'object' && input !== null ? input : {}) as Record<string, unknown>;

  const designs = (typeof raw.designs === 'object' && raw.designs !== null ? raw.designs : {}) as Record<string, { target?: unknown; options?: unknown }>;
  const topologies: Record<string, Topology> = {};
  if (top.success && Object.keys(designs).length === 0) problems.push({ path: 'designs', message: 'name at least one design, e.g. { single: httpService() }' });
  for (const [name, design] of Object.entries(designs)) {
    if (!designName.test(name)) problems.push({ path: `designs.${name}`, message: 'design names use letters, digits, ., _ and - (they name files)' });
    const target = typeof design?.target === 'string' ? design.target : undefined;
    if (target === undefined) continue;
    const def = (targets as Record<string, (typeof targets)[keyof typeof targets]>)[target];
    if (!def) {
      problems.push({ path: `designs.${name}.target`, message: `unknown target '${target}'; valid targets: ${oneOf(Object.keys(targets))}` });
      continue;
    }
    const options = def.options.safeParse(design.options ?? {});
    collect(problems, ['designs', name, 'options'], options);
    if (options.success) topologies[name] = (def.topology as (o: unknown) => Topology)(options.data);
  }

  const workload = raw.workload as { protocol?: unknown } | undefined;
  if (typeof workload?.protocol === 'string') {
    const driver = (drivers as Record<string, (typeof drivers)[keyof typeof drivers]>)[workload.protocol];
    if (!driver) problems.push({ path: 'workload.protocol', message: `unknown protocol '${workload.protocol}'; valid protocols: ${oneOf(Object.keys(drivers))}` });
    else collect(problems, ['workload'], driver.workload.safeParse(workload));
  }

  const faults = top.success ? ((raw.faults ?? []) as Fault[]) : [];
  const durationMs = typeof raw.duration === 'string' ? parseDuration(raw.duration) : undefined;
  checkFaults(faults, Object.keys(designs), topologies, problems);
  if (durationMs !== undefined) problems.push(...checkTimeline(faults, durationMs, 'duration'));
  const sla = parseSlaRules(Array.isArray(raw.sla) ? raw.sla : [], faults, problems);
  if (problems.length > 0 || !top.success) return { ok: false, problems };
  const scenario = input as Scenario;
  return {
    ok: true,
    value: {
      scenario,
      warmupMs: parseDuration(scenario.warmup ?? DEFAULT_WARMUP)!,
      durationMs: durationMs!,
      sla,
      faults,
      topologies,
    },
  };
}

/** Fault names are unique; each names designs, links and services that exist where it applies. */
function checkFaults(faults: readonly Fault[], designNames: string[], topologies: Record<string, Topology>, problems: Problem[]): void {
  const seen = new Set<string>();
  faults.forEach((f, i) => {
    if (seen.has(f.name)) problems.push({ path: `faults[${i}].name`, message: `another fault is already named '${f.name}'; fault names must be unique` });
    seen.add(f.name);
    for (const d of f.designs ?? []) {
      if (!designNames.includes(d)) problems.push({ path: `faults[${i}].designs`, message: `unknown design '${d}'; designs: ${oneOf(designNames)}` });
    }
    for (const d of f.designs ?? designNames) {
      const topology = topologies[d];
      if (!topology) continue;
      if ('link' in f && f.link !== undefined) {
        const valid = linkNames(topology);
        if (!valid.includes(f.link)) problems.push({ path: `faults[${i}].link`, message: `design '${d}' has no link '${f.link}'; its links: ${oneOf(valid)} (or limit the fault with designs: [...])` });
      }
      if ('service' in f && f.service !== undefined) {
        const valid = topology.services.map((s) => s.name);
        if (!valid.includes(f.service)) problems.push({ path: `faults[${i}].service`, message: `design '${d}' has no service '${f.service}'; its services: ${oneOf(valid)} (or limit the fault with designs: [...])` });
      }
    }
  });
}

/** Every fault starts and ends inside a measured window of `durationMs`. */
export function checkTimeline(faults: readonly Fault[], durationMs: number, durationField: string): Problem[] {
  const problems: Problem[] = [];
  faults.forEach((f, i) => {
    const at = parseDuration(f.at);
    const len = f.for === undefined ? 0 : parseDuration(f.for);
    if (at === undefined || len === undefined) return;
    if (at >= durationMs) problems.push({ path: `faults[${i}].at`, message: `fault '${f.name}' starts at ${formatDuration(at)}, not inside the ${formatDuration(durationMs)} window (${durationField}); make the window longer or the offset shorter` });
    else if (at + len > durationMs) problems.push({ path: `faults[${i}].for`, message: `fault '${f.name}' ends at ${formatDuration(at + len)}, after the ${formatDuration(durationMs)} window (${durationField}) ends` });
  });
  return problems;
}

function parse(line: string, path: string, problems: Problem[]): SlaExpression | undefined {
  try {
    return parseSla(line);
  } catch (err) {
    if (!(err instanceof SlaSyntaxError)) throw err;
    problems.push({ path, message: err.message });
    return undefined;
  }
}

/** Parses one plain or fault-scoped SLA entry (index `i`), reporting its problems. */
function parseSlaEntry(entry: unknown, i: number, faultNames: readonly string[], problems: Problem[]): SlaRule | undefined {
  if (typeof entry === 'string') {
    const expr = parse(entry, `sla[${i}]`, problems);
    if (expr?.metric.kind === 'recovery') problems.push({ path: `sla[${i}]`, message: "recovery is measured after a fault: write { after: '<fault>', check: 'recovery < 3s' }" });
    else if (expr?.metric.kind === 'remapped') problems.push({ path: `sla[${i}]`, message: "remapped is measured around a fault: write { during: '<fault>', check: 'remapped < 40%' }" });
    else return expr && { expr, display: expr.source };
    return undefined;
  }
  if (typeof entry !== 'object' || entry === null) return undefined;
  const e = entry as ScopedSla;
  const kinds = (['before', 'during', 'after'] as const).filter((k) => e[k] !== undefined);
  if (kinds.length !== 1) {
    problems.push({ path: `sla[${i}]`, message: "a scoped SLA line names one fault with exactly one of before, during or after, e.g. { during: 'slow', check: 'p99 < 250ms' }" });
    return undefined;
  }
  const kind = kinds[0]!;
  const fault = e[kind]!;
  if (!faultNames.includes(fault)) problems.push({ path: `sla[${i}].${kind}`, message: `no fault named '${fault}'; faults: ${faultNames.length ? oneOf(faultNames) : '(none)'}` });
  if (e.for !== undefined && kind !== 'after') problems.push({ path: `sla[${i}].for`, message: 'for goes with after (how long after the fault to judge)' });
  const expr = parse(e.check, `sla[${i}].check`, problems);
  if (!expr) return undefined;
  const isRecovery = expr.metric.kind === 'recovery';
  if (isRecovery && kind !== 'after') problems.push({ path: `sla[${i}].check`, message: `recovery is measured after a fault: use after: '${fault}'` });
  if (expr.metric.kind === 'remapped' && kind === 'before') problems.push({ path: `sla[${i}].check`, message: `remapped compares with before the fault: use during: '${fault}' or after: '${fault}'` });
  if (e.until !== undefined && !isRecovery) problems.push({ path: `sla[${i}].until`, message: 'until goes with a recovery check' });
  const until: SlaExpression[] = [];
  for (const [j, u] of (isRecovery ? e.until ?? [] : []).entries()) {
    const p = parse(u, `sla[${i}].until[${j}]`, problems);
    if (p && !judgesOneSecond(p)) problems.push({ path: `sla[${i}].until[${j}]`, message: `'${u}' cannot judge a single second; use latency or error lines` });
    else if (p) until.push(p);
  }
  const forMs = e.for === undefined ? undefined : parseDuration(e.for);
  return {
    expr,
    display: `${kind} ${fault}${forMs !== undefined ? ` (${formatDuration(forMs)})` : ''}: ${expr.source}`,
    scope: { kind, fault, ...(forMs !== undefined ? { forMs } : {}) },
    ...(isRecovery && e.until ? { until } : {}),
  };
}

/** Parses plain and fault-scoped SLA lines; recovery gets its thresholds (given, or the whole-run lines). */
function parseSlaRules(entries: readonly unknown[], faults: readonly Fault[], problems: Problem[]): SlaRule[] {
  const faultNames = faults.map((f) => f.name);
  const parsed = entries.map((entry, i) => parseSlaEntry(entry, i, faultNames, problems));
  // Recovery without its own thresholds means "back inside the whole-run latency and error lines".
  const wholeRun = parsed.filter((r): r is SlaRule => r !== undefined && !r.scope && judgesOneSecond(r.expr)).map((r) => r.expr);
  return parsed.flatMap((r, i) => {
    if (!r) return [];
    if (r.expr.metric.kind !== 'recovery' || r.until) return [r];
    if (wholeRun.length === 0) problems.push({ path: `sla[${i}]`, message: "recovery needs thresholds: give until: ['p99 < 100ms', 'errors < 1%'], or whole-run latency or error lines" });
    return [{ ...r, until: wholeRun }];
  });
}
