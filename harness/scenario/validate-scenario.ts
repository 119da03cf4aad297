import { z } from 'zod';
import { targets } from '../../targets/index.ts';
import { drivers } from '../drivers/index.ts';
import { parseSla, SlaSyntaxError, type SlaExpression } from '../sla/sla-grammar.ts';
import { parseDuration } from './duration.ts';
import type { Scenario } from './scenario.ts';
import { durationSchema } from './schema-helpers.ts';

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
  sla: SlaExpression[];
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
  sla: z.array(z.string()).optional(),
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
    collect(problems, ['designs', name, 'options'], def.options.safeParse(design.options ?? {}));
  }

  const workload = raw.workload as { protocol?: unknown } | undefined;
  if (typeof workload?.protocol === 'string') {
    const driver = (drivers as Record<string, (typeof drivers)[keyof typeof drivers]>)[workload.protocol];
    if (!driver) problems.push({ path: 'workload.protocol', message: `unknown protocol '${workload.protocol}'; valid protocols: ${oneOf(Object.keys(drivers))}` });
    else collect(problems, ['workload'], driver.workload.safeParse(workload));
  }

  const sla: SlaExpression[] = [];
  (Array.isArray(raw.sla) ? raw.sla : []).forEach((line, i) => {
    if (typeof line !== 'string') return;
    try {
      sla.push(parseSla(line));
    } catch (err) {
      if (!(err instanceof SlaSyntaxError)) throw err;
      problems.push({ path: `sla[${i}]`, message: err.message });
    }
  });

  if (problems.length > 0 || !top.success) return { ok: false, problems };
  const scenario = input as Scenario;
  return {
    ok: true,
    value: {
      scenario,
      warmupMs: parseDuration(scenario.warmup ?? DEFAULT_WARMUP)!,
      durationMs: parseDuration(scenario.duration)!,
      sla,
    },
  };
}
