import { z } from 'zod';
import { MAX_DURATION, MAX_DURATION_MS, parseDuration } from './duration.ts';

/**
 * A duration string (`500ms`, `3s`, `1m30s`) as a schema, with a message that shows the form,
 * at most `MAX_DURATION` (24h): a longer one could overflow the timers that wait for it.
 */
export const durationSchema = z
  .string()
  .refine((s) => parseDuration(s) !== undefined, { message: "expected a duration such as '500ms', '3s', '2m' or '1m30s'" })
  // A malformed duration has its message above; this one speaks only of those that parse.
  .refine((s) => (parseDuration(s) ?? 0) <= MAX_DURATION_MS, { error: (issue) => `'${String(issue.input)}' is longer than ${MAX_DURATION}, the longest duration faultline accepts` });

/** The open model's fields as every workload states them (the pacer's `OpenLoad`): starting rate, ramps, in-flight cap. */
export const openLoadFields = {
  rate: z.number().positive().max(1_000_000),
  stages: z.array(z.strictObject({ duration: durationSchema, target: z.number().min(0).max(1_000_000) })).optional(),
  maxInFlight: z.number().int().positive().max(1_000_000).optional(),
};
