import { z } from 'zod';
import { parseDuration, type Duration } from '../../base/duration.ts';
import { durationSchema, openLoadFields } from '../../base/schema-helpers.ts';
import { MAX_COUNT, MAX_ID, MAX_MS, MAX_SIZE } from '../../../targets/recipe-service/recipes.ts';

/** The operations of the recipe service (recipe.proto's `Recipes`), the same over every protocol. */
export const rpcMethods = ['GetRecipe', 'Work', 'ListRecipes'] as const;
export type RpcMethod = (typeof rpcMethods)[number];

/** GetRecipe: one recipe document. */
export interface GetRecipeArgs {
  /** The recipe's id (0 … 999,999,999). */
  id: number;
  /** The document's size as JSON, in bytes (padded up to it); default 0: the bare document (~500 B). At most 1 MiB. */
  size?: number;
}

/** Work: the service burns CPU or waits, then answers. */
export interface WorkArgs {
  /** How long, in ms (at most 60,000). */
  ms: number;
  /** `cpu` (default): a busy loop on the service's thread; `wait`: a timer, the thread free. */
  mode?: 'cpu' | 'wait';
}

/** ListRecipes: a server stream of `count` recipes. */
export interface ListRecipesArgs {
  /** Items in the stream (1 … 10,000). */
  count: number;
  /** Each item's size as JSON, in bytes, as for GetRecipe; default 0. */
  size?: number;
  /** The service's pause between items, in ms; default 0. */
  intervalMs?: number;
}

interface CallCommon {
  /** Operation name in results; default the method's name. Names are unique within a workload. */
  name?: string;
  /** Relative share of this call in the mix; default 1. Calls are interleaved in a fixed order, the same for every design. */
  weight?: number;
}

/** One named call of an rpc workload: a method and its arguments. */
export type RpcCallSpec =
  | (CallCommon & { method: 'GetRecipe'; args: GetRecipeArgs })
  | (CallCommon & { method: 'Work'; args: WorkArgs })
  | (CallCommon & { method: 'ListRecipes'; args: ListRecipesArgs });

interface RpcWorkloadCommon {
  kind: 'rpc';
  /** The calls, by weight; every design gets the same ones in the same order. */
  calls: RpcCallSpec[];
  /**
   * Each call's deadline, from its send to the end of its answer (a stream's last item). Over
   * gRPC the call's own deadline (an overrun is `grpc_deadline_exceeded`); over HTTP the call
   * is aborted then, which closes its connection, and counts as a `timeout`. Default `10s`.
   */
  deadline?: Duration;
  /**
   * Keep every answer, decoded, in the run's history (`{ ev: 'answer', call, by, doc }`, a
   * stream's as `items`), for checks across protocols. Costs a decode per answer. Default false.
   */
  keepAnswers?: boolean;
}

/** Open model: calls due at a constant or ramping rate, spread over the design's instances in turn; latency counts from the due time. */
export interface OpenRpcWorkload extends RpcWorkloadCommon {
  model: 'open';
  /** Calls per second at the start (and during warm-up), across every instance. */
  rate: number;
  /** Ramps after warm-up, each linear from the previous rate to `target` calls/s over `duration`. */
  stages?: { duration: Duration; target: number }[];
  /** HTTP: connections per instance at most (opened as needed); default 64. gRPC calls share the design's channels (client option `channels`). */
  connections?: number;
  /** Calls in flight at most; a call beyond it is dropped and counted. Default 10000. */
  maxInFlight?: number;
}

/**
 * Closed model: `connections` callers, each calling again as soon as its call finished. Over
 * HTTP each caller has its connection; over gRPC the callers share the design's channels.
 */
export interface ClosedRpcWorkload extends RpcWorkloadCommon {
  model: 'closed';
  /** Concurrent callers. */
  connections: number;
}

export type RpcWorkload = OpenRpcWorkload | ClosedRpcWorkload;

/** Builds an rpc workload, e.g. `rpc({ model: 'open', rate: 500, calls: [{ method: 'GetRecipe', args: { id: 7, size: 2048 } }] })`. */
export function rpc<const W extends Omit<OpenRpcWorkload, 'kind'> | Omit<ClosedRpcWorkload, 'kind'>>(w: W): W & { kind: 'rpc' } {
  return { kind: 'rpc', ...w };
}

const whole = (max: number) => z.number().int().min(0).max(max);
const callCommon = {
  name: z.string().min(1).max(100).optional(),
  weight: z.number().int().positive().max(1000).optional(),
};

const callSchema = z.discriminatedUnion('method', [
  z.strictObject({ ...callCommon, method: z.literal('GetRecipe'), args: z.strictObject({ id: whole(MAX_ID), size: whole(MAX_SIZE).optional() }) }),
  z.strictObject({ ...callCommon, method: z.literal('Work'), args: z.strictObject({ ms: whole(MAX_MS), mode: z.enum(['cpu', 'wait']).optional() }) }),
  z.strictObject({
    ...callCommon,
    method: z.literal('ListRecipes'),
    args: z.strictObject({ count: z.number().int().min(1).max(MAX_COUNT), size: whole(MAX_SIZE).optional(), intervalMs: whole(MAX_MS).optional() }),
  }),
], { error: (issue) => (issue.code === 'invalid_union' ? `unknown method ${JSON.stringify((issue.input as { method?: unknown })?.method)}; give one of ${rpcMethods.map((m) => `'${m}'`).join(', ')}` : undefined) });

const common = {
  kind: z.literal('rpc'),
  calls: z.array(callSchema).min(1).max(100),
  deadline: durationSchema.refine((d) => (parseDuration(d) ?? 0) >= 1, 'give at least 1ms').optional(),
  keepAnswers: z.boolean().optional(),
};

export const rpcWorkloadSchema = z
  .discriminatedUnion('model', [
    z.strictObject({ ...common, model: z.literal('open'), ...openLoadFields, connections: z.number().int().positive().max(10_000).optional() }),
    z.strictObject({ ...common, model: z.literal('closed'), connections: z.number().int().positive().max(10_000) }),
  ])
  .check((ctx) => {
    const seen = new Map<string, number>();
    ctx.value.calls.forEach((c, i) => {
      const name = c.name ?? c.method;
      const first = seen.get(name);
      if (first !== undefined) {
        ctx.issues.push({ code: 'custom', input: c, path: ['calls', i, 'name'], message: `calls ${first} and ${i} are both named '${name}': give each call of the same method its own name` });
      } else seen.set(name, i);
    });
  }) satisfies z.ZodType<RpcWorkload>;

/** A call with its name, weight and every argument filled in. */
export type RpcCall =
  | { name: string; weight: number; method: 'GetRecipe'; args: Required<GetRecipeArgs> }
  | { name: string; weight: number; method: 'Work'; args: Required<WorkArgs> }
  | { name: string; weight: number; method: 'ListRecipes'; args: Required<ListRecipesArgs> };

/** The calls of a workload, each with its name, weight and defaults filled in. */
export function normalizeCalls(w: Pick<RpcWorkload, 'calls'>): RpcCall[] {
  return w.calls.map((c): RpcCall => {
    const base = { name: c.name ?? c.method, weight: c.weight ?? 1 };
    switch (c.method) {
      case 'GetRecipe':
        return { ...base, method: c.method, args: { id: c.args.id, size: c.args.size ?? 0 } };
      case 'Work':
        return { ...base, method: c.method, args: { ms: c.args.ms, mode: c.args.mode ?? 'cpu' } };
      case 'ListRecipes':
        return { ...base, method: c.method, args: { count: c.args.count, size: c.args.size ?? 0, intervalMs: c.args.intervalMs ?? 0 } };
    }
  });
}

/** A workload's deadline in ms. */
export function deadlineMs(w: Pick<RpcWorkload, 'deadline'>): number {
  return parseDuration(w.deadline ?? '10s')!;
}
