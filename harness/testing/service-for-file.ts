import { afterAll, beforeAll, expect } from 'vitest';
import { LocalRuntime } from '../runtime/local-runtime.ts';
import type { StartedService } from '../runtime/runtime.ts';
import type { ServiceSpec } from '../runtime/service-spec.ts';
import { processesOfRun } from './processes.ts';

/**
 * One real service for a whole test file (or describe block), in the local runtime: started
 * before its tests, stopped after them, and then not one process of its run may be left.
 * Call it where vitest hooks may be declared; read the service and runtime inside tests.
 */
export function localServiceForFile(runIdPrefix: string, spec: () => ServiceSpec, startTimeoutMs = 120_000): { service(): StartedService; runtime(): LocalRuntime } {
  const runId = `${runIdPrefix}${process.pid}`;
  let runtime: LocalRuntime | undefined;
  let service: StartedService | undefined;
  beforeAll(async () => {
    runtime = new LocalRuntime({ runId });
    service = await runtime.start(spec());
  }, startTimeoutMs);
  afterAll(async () => {
    await runtime?.stopAll();
    expect(processesOfRun(runId)).toEqual([]);
  }, 60_000);
  return { service: () => service!, runtime: () => runtime! };
}
