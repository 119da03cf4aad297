import { z } from 'zod';
import type { Duration } from '../base/duration.ts';
import { durationSchema, openLoadFields } from '../base/schema-helpers.ts';

/** What every `ids` workload says, open or closed. */
interface IdsWorkloadCommon {
  kind: 'ids';
  /** IDs asked for per call (`/ids?n=batch`); default 1. */
  batch?: number;
  /** A call not answered within this fails as a `timeout`. Default `10s`. */
  timeout?: Duration;
}

/** Open model: calls due at a constant or ramping rate, spread over the design's instances in turn; latency counts from the due time. */
export interface OpenIdsWorkload extends IdsWorkloadCommon {
  model: 'open';
  /** Calls per second at the start (and during warm-up), across every instance. */
  rate: number;
  /** Ramps after warm-up, each linear from the previous rate to `target` calls/s over `duration`. */
  stages?: { duration: Duration; target: number }[];
  /** Connections per instance at most (opened as needed). Default 64. */
  connections?: number;
  /** Calls in flight at most; a call beyond it is dropped and counted. Default 10000. */
  maxInFlight?: number;
}

/** Closed model: `connections` loops, each calling again as soon as its call answered, spread over the instances. */
export interface ClosedIdsWorkload extends IdsWorkloadCommon {
  model: 'closed';
  /** Concurrent callers. */
  connections: number;
}

export type IdsWorkload = OpenIdsWorkload | ClosedIdsWorkload;

/** Builds an `ids` workload, e.g. `ids({ model: 'open', rate: 2000, batch: 10 })`. */
export function ids<const W extends Omit<OpenIdsWorkload, 'kind'> | Omit<ClosedIdsWorkload, 'kind'>>(w: W): W & { kind: 'ids' } {
  return { kind: 'ids', ...w };
}

/** The largest batch an ID service hands out in one call. */
export const MAX_BATCH = 10_000;

const common = {
  kind: z.literal('ids'),
  batch: z.number().int().min(1).max(MAX_BATCH).optional(),
  timeout: durationSchema.optional(),
};

export const idsWorkloadSchema = z.discriminatedUnion('model', [
  z.strictObject({
    ...common,
    model: z.literal('open'),
    ...openLoadFields,
    connections: z.number().int().positive().max(10_000).optional(),
  }),
  z.strictObject({
    ...common,
    model: z.literal('closed'),
    connections: z.number().int().positive().max(10_000),
  }),
]) satisfies z.ZodType<IdsWorkload>;
