import type { FaultRecord, KeyRemap } from '../result/result.ts';
import { scopeSeconds } from './judge-design.ts';

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
    // The seconds that began while the fault lasted (not the one after it, which `during` SLA
    // windows take in for the responses a fault held back: keys may be home again by then).
    const during = { from: Math.floor(f.appliedAtMs! / 1000), to: Math.max(Math.floor(f.appliedAtMs! / 1000) + 1, Math.ceil((f.removedAtMs ?? windowMs) / 1000)) };
    const after = scopeSeconds({ kind: 'after', fault: f.name }, f, windowMs);
    byFault[f.name] = {
      during: moved(home, lastBackend(keySeconds, during.from, during.to)),
      after: after ? moved(home, lastBackend(keySeconds, after.from, after.to)) : null,
    };
  }
  return { keys: all.size, byFault };
}
