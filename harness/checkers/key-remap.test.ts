import { describe, expect, it } from 'vitest';
import type { FaultRecord } from '../result/result.ts';
import { keyRemap } from './key-remap.ts';

const down: FaultRecord = { name: 'down', kind: 'kill', service: 'backend-2', settings: {}, atMs: 2000, forMs: 2000, appliedAtMs: 2001, removedAtMs: 4001 };

/** Six seconds of 4 keys: k0, k1 on b1; k2, k3 on b2. While b2 is down (seconds 2–4) its keys go to b1, and k1 to b3. */
function seconds(): Map<string, string>[] {
  const normal = new Map([['k0', 'b1'], ['k1', 'b1'], ['k2', 'b2'], ['k3', 'b2']]);
  const out = new Map([['k0', 'b1'], ['k1', 'b3'], ['k2', 'b1'], ['k3', 'b1']]);
  return [normal, normal, out, out, out, normal];
}

describe('keyRemap', () => {
  it('compares each key with its backend before the fault, during it and after it', () => {
    expect(keyRemap(seconds(), [down], 6000)).toEqual({ keys: 4, byFault: { down: { during: 0.75, after: 0 } } });
  });

  it('is absent for a workload without keys', () => {
    expect(keyRemap([new Map(), new Map()], [down], 2000)).toBeUndefined();
  });
});
