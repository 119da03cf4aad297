import { describe, expect, it } from 'vitest';
import { ArrivalSchedule } from './arrival-schedule.ts';

describe('ArrivalSchedule', () => {
  it('spaces sends evenly at a constant rate', () => {
    const s = new ArrivalSchedule(200, 0);
    expect(s.timeOf(0)).toBe(0);
    expect(s.timeOf(1)).toBeCloseTo(5);
    expect(s.timeOf(200)).toBeCloseTo(1000);
  });

  it('holds the start rate through warm-up, then ramps linearly', () => {
    // 100/s for 1 s (100 sends), then 100 → 300/s over 1 s (200 sends), then 300/s.
    const s = new ArrivalSchedule(100, 1000, [{ durationMs: 1000, target: 300 }]);
    expect(s.timeOf(100)).toBeCloseTo(1000);
    expect(s.timeOf(300)).toBeCloseTo(2000);
    expect(s.timeOf(600)).toBeCloseTo(3000);
    expect(s.rateAt(1500)).toBeCloseTo(200);
    // Inside the ramp the gaps shrink.
    const early = s.timeOf(101) - s.timeOf(100);
    const late = s.timeOf(299) - s.timeOf(298);
    expect(late).toBeLessThan(early);
  });

  it('counts exactly the integral of the rate over each stage', () => {
    const s = new ArrivalSchedule(50, 0, [{ durationMs: 2000, target: 150 }, { durationMs: 1000, target: 150 }]);
    // Stage 1 sends (50+150)/2·2 = 200, stage 2 150 more.
    expect(s.timeOf(200)).toBeCloseTo(2000);
    expect(s.timeOf(350)).toBeCloseTo(3000);
  });

  it('never schedules sends after a ramp down to zero', () => {
    const s = new ArrivalSchedule(100, 0, [{ durationMs: 1000, target: 0 }]);
    expect(s.timeOf(49)).toBeLessThan(1000);
    expect(s.timeOf(50)).toBe(Infinity);
  });
});
