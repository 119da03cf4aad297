import type { z } from 'zod';
import type { LoadDriver } from './load-driver.ts';
import { createHttpDriver } from './http-driver.ts';
import { httpWorkloadSchema, type HttpWorkload } from './http-workload.ts';

/** A driver's face: the workload it accepts and how to create it for a target URL. */
export interface DriverDefinition<W> {
  workload: z.ZodType<W>;
  create(workload: W, target: { url: string; endMs: number; warmupMs: number }): LoadDriver;
}

/** Every load driver, by the workload's `protocol`. Adding one: its file, its test, one line here. */
export const drivers = {
  http: { workload: httpWorkloadSchema, create: createHttpDriver } satisfies DriverDefinition<HttpWorkload>,
};

export type Protocol = keyof typeof drivers;
