import { formatValue } from '../result/format.ts';
import type { FaultRecord } from '../result/result.ts';
import { scopeSeconds } from '../sla/judge-design.ts';
import type { CheckerDefinition, CheckInput } from './checker.ts';

/** How a fault moved request keys between backends: the fraction moved during it and after it, per fault. */
export interface KeyRemap {
  /** Distinct keys seen. */
  keys: number;
  byFault: Record<string, { during: number | null; after: number | null }>;
}

/** For each key, the backend that served it last within seconds [from, to). */
function lastBackend(keySeconds: readonly ReadonlyMap<string, string>[], from: number, to: number): Map<string, string> {
  const last = new Map<string, string>();
  for (let s = Math.max(0, from); s < Math.min(to, keySeconds.length); s++) {
    for (const [key, backend] of keySeconds[s]!) last.set(key, backend);
  }
  return last;
}

/** Of the keys seen in both, the fraction whose backend differs; null when none were seen in both. */
function moved(home: ReadonlyMap<string, string>, now: ReadonlyMap<string, string>): number | null {
  let compared = 0;
  let changed = 0;
  for (const [key, backend] of now) {
    const before = home.get(key);
    if (before === undefined) continue;
    compared++;
    if (before !== backend) changed++;
  }
  return compared === 0 ? null : changed / compared;
}

/**
 * How a fault moved request keys between backends: each key's home is the backend that served
 * it last before the fault; `during` compares with the backend that served it last inside the
 * fault's window (after the balancer noticed), `after` with the last one after the fault ended.
 */
export function keyRemap(keySeconds: readonly ReadonlyMap<string, string>[], faults: readonly FaultRecord[], windowMs: number): KeyRemap | undefined {
  if (!keySeconds.some((m) => m.size > 0)) return undefined;
  const all = new Set<string>();
  for (const m of keySeconds) for (const k of m.keys()) all.add(k);
  const byFault: KeyRemap['byFault'] = {};
  for (const f of faults) {
    const before = scopeSeconds({ kind: 'before', fault: f.name }, f, windowMs);
    if (!before) continue;
    const home = lastBackend(keySeconds, before.from, before.to);
    // The seconds that began while the fault lasted (at least one): keys may be home again after.
    const during = { from: Math.floor(f.appliedAtMs! / 1000), to: Math.max(Math.floor(f.appliedAtMs! / 1000) + 1, Math.ceil((f.removedAtMs ?? windowMs) / 1000)) };
    const after = scopeSeconds({ kind: 'after', fault: f.name }, f, windowMs);
    byFault[f.name] = {
      during: moved(home, lastBackend(keySeconds, during.from, during.to)),
      after: after ? moved(home, lastBackend(keySeconds, after.from, after.to)) : null,
    };
  }
  return { keys: all.size, byFault };
}

/** Per second of the window, which backend served each key last in it, from history records `{ key, by }`. */
export async function keySecondsOf(input: Pick<CheckInput, 'history' | 'windowMs'>): Promise<Map<string, string>[]> {
  const seconds: Map<string, string>[] = Array.from({ length: Math.ceil(input.windowMs / 1000) }, () => new Map());
  for await (const r of input.history()) {
    if (typeof r.key !== 'string' || typeof r.by !== 'string' || r.t < 0) continue;
    seconds[Math.floor(r.t / 1000)]?.set(r.key, r.by);
  }
  return seconds;
}

/** A fraction of keys for an example, through the one formatter of fractions. */
const moves = (x: number | null): string => (x === null ? 'none to compare' : formatValue(x, 'fraction'));

/**
 * The load-balancer key-remap analysis as a checker: `remapped` (per fault, the fraction of
 * keys served by another backend than before it) and `keys` (distinct keys seen).
 */
export const keyRemapChecker: CheckerDefinition = {
  name: 'key-remap',
  counts: {
    remapped: { description: 'keys served by another backend than before the fault / keys seen in both', unit: 'fraction', better: 'lower', scope: 'fault' },
    keys: { description: 'distinct request keys seen in the window', unit: 'count', better: 'neither' },
  },
  async check(input) {
    const remap = keyRemap(await keySecondsOf(input), input.faults, input.windowMs);
    const examples = Object.entries(remap?.byFault ?? {}).map(([fault, v]) => `${fault}: ${moves(v.during)} of keys moved during it, ${moves(v.after)} after it`);
    return {
      remapped: { value: null, byFault: remap?.byFault ?? {}, examples },
      keys: { value: remap?.keys ?? 0, examples: [] },
    };
  },
};
