import type { z } from 'zod';
import type { Topology } from '../harness/runtime/service-spec.ts';

/**
 * A reusable builder for one kind of service: its options (validated at load time) and the
 * topology it starts for a design. Registered once in targets/index.ts.
 */
export interface TargetDefinition<Options> {
  name: string;
  /** One line for `faultline list` and docs. */
  description: string;
  options: z.ZodType<Options>;
  /** A fresh topology for these options; called at every start, never cached. */
  topology(options: Options): Topology;
}

/** The Node binary that runs faultline also runs its Node services. */
export const nodeProgram = {
  name: 'node',
  version: async () => process.version,
};
