import type { DesignResult } from '../result/result.ts';

/** Calls served per instance (the `served_by` tally) over the seconds of a design's window that `keep` selects. */
export function servedIn(d: DesignResult, keep: (second: number) => boolean): Record<string, number> {
  const c: Record<string, number> = {};
  for (const r of d.series.filter((s) => keep(s.second))) for (const [b, n] of Object.entries(r.tallies?.served_by ?? {})) c[b] = (c[b] ?? 0) + n;
  return c;
}

/** A predicate over window seconds: those wholly before `fault` was applied. */
export function secondsBefore(d: DesignResult, fault: string): (second: number) => boolean {
  const at = d.faults.find((f) => f.name === fault)!.appliedAtMs!;
  return (s) => (s + 1) * 1000 <= at;
}
