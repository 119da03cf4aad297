import { FaultlineError } from '../errors.ts';
import type { Fault } from '../faults/fault-spec.ts';
import { parseDuration } from '../base/duration.ts';
import type { LoadedScenario } from './load-scenario.ts';

/**
 * A shorter (or longer) run of the same scenario: warm-up, window, the workload's ramp stages,
 * every fault's offset and length and every SLA `for` and `hold` multiplied by `factor`. Thresholds (`recovery < 3s`) and the
 * designs' own timers (health-check intervals) stay as written: they describe the system, not
 * the run.
 */
export function scaleTimeline(loaded: LoadedScenario, factor: number): LoadedScenario {
  if (!(factor > 0 && factor <= 10)) {
    throw new FaultlineError('invalid-argument', `--time-scale ${factor} is out of range`, { hint: 'give a factor above 0 and at most 10, e.g. 0.25 for a quick run' });
  }
  if (factor === 1) return loaded;
  const scale = (d: string) => `${Math.round(parseDuration(d)! * factor)}ms`;
  const faults = loaded.faults.map((f): Fault => ({ ...f, at: scale(f.at), ...(f.for !== undefined ? { for: scale(f.for) } : {}) }));
  // Ramps are part of the timeline: an overload placed before a fault stays before it.
  const w = loaded.scenario.workload as { stages?: { duration: string; target: number }[] };
  const workload = w.stages ? { ...loaded.scenario.workload, stages: w.stages.map((st) => ({ ...st, duration: scale(st.duration) })) } : loaded.scenario.workload;
  return {
    ...loaded,
    scenario: { ...loaded.scenario, faults, workload },
    faults,
    warmupMs: Math.round(loaded.warmupMs * factor),
    durationMs: Math.round(loaded.durationMs * factor),
    sla: loaded.sla.map((r) => ({
      ...r,
      ...(r.scope?.forMs === undefined ? {} : { scope: { ...r.scope, forMs: Math.round(r.scope.forMs * factor) } }),
      ...(r.holdMs === undefined ? {} : { holdMs: Math.round(r.holdMs * factor) }),
    })),
  };
}
