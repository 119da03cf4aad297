import { afterEach, describe, expect, it } from 'vitest';
import { PreciseClock } from './precise-clock.ts';

let clock: PreciseClock | undefined;
afterEach(async () => {
  await clock?.close();
});

const wake = (c: PreciseClock, ms: number) => new Promise<number>((resolve) => c.wakeAt(ms, () => resolve(performance.now())));

describe('PreciseClock', () => {
  it('never wakes before the time it was given', async () => {
    clock = new PreciseClock();
    for (let i = 0; i < 20; i++) {
      const target = performance.now() + 0.3 + i * 0.05;
      expect(await wake(clock, target)).toBeGreaterThanOrEqual(target);
    }
  });

  it('replaces a pending wake-up with a new one, and calls each at most once', async () => {
    clock = new PreciseClock();
    const calls: string[] = [];
    clock.wakeAt(performance.now() + 50, () => calls.push('replaced'));
    await wake(clock, performance.now() + 5);
    await new Promise((r) => setTimeout(r, 80));
    expect(calls).toEqual([]);
    clock.wakeAt(performance.now() + 1, () => calls.push('cancelled'));
    clock.cancel();
    await new Promise((r) => setTimeout(r, 20));
    expect(calls).toEqual([]);
  });

  it('wakes at once for a time already past', async () => {
    clock = new PreciseClock();
    const target = performance.now() - 10;
    expect(await wake(clock, target)).toBeGreaterThan(target);
  });
});
