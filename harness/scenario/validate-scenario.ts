import { defaultImages, type ImageKey } from '../runtime/images.ts';
import { z } from 'zod';
import { targets, type AnyTarget } from '../../targets/index.ts';
import { drivers, type AnyDriver } from '../drivers/index.ts';
import type { DriverDefinition } from '../drivers/driver.ts';
import { faultKind, faultSchema, type Fault } from '../faults/fault-spec.ts';
import { entryProtocols, linkNames, type EntrySpec, type Topology } from '../runtime/service-spec.ts';
import { buildRegistry } from '../sla/metric-registry.ts';
import { parseSlaRules } from '../sla/parse-sla-rules.ts';
import type { SlaRule } from '../sla/sla-rule.ts';
import { formatDuration, parseDuration } from '../base/duration.ts';
import type { Scenario } from './scenario.ts';
import { durationSchema } from '../base/schema-helpers.ts';

/** The targets and workload kinds a scenario may name. */
export interface Registries {
  targets: Readonly<Record<string, AnyTarget>>;
  drivers: Readonly<Record<string, AnyDriver>>;
}

/** faultline's own targets and workload kinds. */
export const registries: Registries = { targets, drivers };

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
  /** The workload's driver. */
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  driver: DriverDefinition<any>;
  /** Per design: the protocol the load speaks to it, that entry, and the client options for its adapter (defaults filled). */
  plans: Record<string, DesignPlan>;
}

/** How the load reaches one design. */
export interface DesignPlan {
  protocol: string;
  entry: EntrySpec;
  client: Record<string, unknown>;
}

const DEFAULT_WARMUP = '2s';
const designName = /^[A-Za-z0-9][A-Za-z0-9._-]*$/;

const shape = z.strictObject({
  name: z.string().regex(/^[a-z0-9][a-z0-9-]*$/, 'use lower-case letters, digits and - (it names the output folder)'),
  description: z.string().min(1, 'say in a sentence what question this scenario answers'),
  designs: z.record(z.string(), z.strictObject({ target: z.string(), options: z.unknown().optional(), protocol: z.string().optional(), client: z.record(z.string(), z.unknown()).optional() })),
  workload: z.looseObject({ kind: z.string() }),
  warmup: durationSchema.optional(),
  duration: durationSchema,
  sla: z.array(z.union([z.string(), z.strictObject({
    before: z.string().optional(),
    during: z.string().optional(),
    after: z.string().optional(),
    check: z.string(),
    for: durationSchema.optional(),
    hold: durationSchema.optional(),
    until: z.array(z.string()).min(1).optional(),
  })])).optional(),
  faults: z.array(faultSchema).optional(),
  images: z.partialRecord(z.enum(Object.keys(defaultImages) as [ImageKey, ...ImageKey[]]), z.string().regex(/^\S+$/, 'an image reference such as haproxy:2.8')).optional(),
});

/** A key that reads plainly after a dot; any other (a header name with a space or a newline) is quoted, so the path stays on one line. */
const plainKey = /^[\w$.-]+$/;

function pathOf(prefix: (string | number)[], path: readonly PropertyKey[]): string {
  return [...prefix, ...path].map((p, i) => {
    if (typeof p === 'number') return `[${p}]`;
    const key = String(p);
    if (!plainKey.test(key)) return `[${JSON.stringify(key)}]`;
    return `${i === 0 ? '' : '.'}${key}`;
  }).join('');
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
export function validateScenario(input: unknown, known: Registries = registries): { ok: true; value: ValidScenario } | { ok: false; problems: Problem[] } {
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
    const def = known.targets[target];
    if (!def) {
      problems.push({ path: `designs.${name}.target`, message: `unknown target '${target}'; valid targets: ${oneOf(Object.keys(known.targets))}` });
      continue;
    }
    const options = def.options.safeParse(design.options ?? {});
    collect(problems, ['designs', name, 'options'], options);
    if (options.success) topologies[name] = def.topology(options.data);
  }

  const workload = raw.workload as { kind?: unknown; protocol?: unknown } | undefined;
  const driver = typeof workload?.kind === 'string' ? known.drivers[workload.kind] : undefined;
  if (typeof workload?.kind === 'string') {
    if (!driver) problems.push({ path: 'workload.kind', message: `unknown workload kind '${workload.kind}'; valid kinds: ${oneOf(Object.keys(known.drivers))}` });
    else collect(problems, ['workload'], driver.workload.safeParse(workload));
  } else if (workload?.protocol !== undefined) {
    problems.push({ path: 'workload.protocol', message: "a workload names its kind, not a protocol: write kind: 'http' (the http(...) builder does), and let each design's target say which protocol it speaks" });
  }
  const plans: Record<string, DesignPlan> = {};
  if (driver) {
    for (const [name, topology] of Object.entries(topologies)) {
      const plan = planDesign(name, designs[name]!, topology, driver, String(workload!.kind), problems);
      if (plan) plans[name] = plan;
    }
  }

  const faults = top.success ? ((raw.faults ?? []) as Fault[]) : [];
  const durationMs = typeof raw.duration === 'string' ? parseDuration(raw.duration) : undefined;
  const clients = driver && workload && driver.workload.safeParse(workload).success ? (driver.clients?.(workload) ?? []) : [];
  checkFaults(faults, Object.keys(designs), topologies, driver ? String(workload!.kind) : undefined, clients, problems);
  if (durationMs !== undefined) problems.push(...checkTimeline(faults, durationMs, 'duration'));
  const sla = driver ? parseSlaRules(Array.isArray(raw.sla) ? raw.sla : [], faults.map((f) => f.name), buildRegistry(driver), problems) : [];
  if (problems.length > 0 || !top.success || !driver) return { ok: false, problems };
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
      driver,
      plans,
    },
  };
}

/**
 * The protocol the load speaks to a design: the one it asks for, or the first its target speaks
 * that the workload has an adapter for; and its client options, checked by that adapter.
 */
// eslint-disable-next-line @typescript-eslint/no-explicit-any
function planDesign(name: string, design: { target?: unknown; protocol?: unknown; client?: unknown }, topology: Topology, driver: DriverDefinition<any>, kind: string, problems: Problem[]): DesignPlan | undefined {
  const speaks = entryProtocols(topology);
  const supported = Object.keys(driver.adapters);
  const asked = typeof design.protocol === 'string' ? design.protocol : undefined;
  if (asked !== undefined && !speaks.includes(asked)) {
    problems.push({ path: `designs.${name}.protocol`, message: `design '${name}' (target ${String(design.target)}) does not speak '${asked}'; it speaks ${oneOf(speaks)}` });
    return undefined;
  }
  const protocol = asked !== undefined ? (supported.includes(asked) ? asked : undefined) : speaks.find((p) => supported.includes(p));
  if (protocol === undefined) {
    problems.push({ path: `designs.${name}`, message: `design '${name}' (target ${String(design.target)}) speaks ${oneOf(asked !== undefined ? [asked] : speaks)}, but the '${kind}' workload speaks ${oneOf(supported)}; choose a target that speaks one of those, or another workload kind` });
    return undefined;
  }
  const parsed = driver.adapters[protocol]!.client.safeParse(design.client ?? {});
  collect(problems, ['designs', name, 'client'], parsed);
  if (!parsed.success) return undefined;
  return { protocol, entry: topology.entries.find((e) => e.protocol === protocol)!, client: parsed.data as Record<string, unknown> };
}

/** Fault names are unique; each names designs, links and services that exist where it applies, and clients its workload has. */
function checkFaults(faults: readonly Fault[], designNames: string[], topologies: Record<string, Topology>, workloadKind: string | undefined, clients: readonly string[], problems: Problem[]): void {
  const seen = new Set<string>();
  faults.forEach((f, i) => {
    if (seen.has(f.name)) problems.push({ path: `faults[${i}].name`, message: `another fault is already named '${f.name}'; fault names must be unique` });
    seen.add(f.name);
    if ('client' in f && f.client !== undefined && workloadKind !== undefined && !clients.includes(f.client)) {
      problems.push({ path: `faults[${i}].client`, message: clients.length === 0 ? `the ${workloadKind} workload has no clients a fault can crash` : `the ${workloadKind} workload has no client '${f.client}'; its clients: ${oneOf(clients)}` });
    }
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
        const spec = topology.services.find((s) => s.name === f.service);
        if (spec?.external) {
          problems.push({ path: `faults[${i}].service`, message: `service '${f.service}' of design '${d}' (${spec.target}) was not started by faultline, so a ${faultKind(f)} fault cannot reach it; put a fault on its link 'client->${f.service}' instead (or limit the fault with designs: [...])` });
        } else if ('clock' in f && f.clock !== undefined && spec && !spec.fakeClock) {
          const faked = topology.services.filter((s) => s.fakeClock).map((s) => s.name);
          problems.push({ path: `faults[${i}].clock`, message: `service '${f.service}' of design '${d}' (${spec.target}) does not run with a fake clock, so a clock fault cannot move it; ${faked.length > 0 ? `services of '${d}' that do: ${oneOf(faked)}` : `no service of '${d}' does`} (or limit the fault with designs: [...])` });
        }
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
