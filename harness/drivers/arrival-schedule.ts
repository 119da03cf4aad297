/** One ramp: from the previous rate to `target` req/s, linearly, over `durationMs`. */
export interface RampStage {
  durationMs: number;
  target: number;
}

interface Segment {
  startMs: number;
  /** Sends due before this segment. */
  startCount: number;
  rate: number;
  /** Rate change per ms (req/s per ms); 0 for a constant segment. */
  slope: number;
  durationMs: number;
}

/**
 * When each send of an open-model load is due. The rate is piecewise linear in time: constant
 * `rate` until `rampFromMs`, then the stages, then the last rate held. Send k (0-based) is due
 * at the time the integral of the rate reaches k, so the schedule depends only on the scenario,
 * never on how the target answers.
 */
export class ArrivalSchedule {
  private readonly segments: Segment[] = [];

  constructor(rate: number, rampFromMs: number, stages: readonly RampStage[] = []) {
    let t = 0;
    let count = 0;
    let r = rate;
    const push = (durationMs: number, to: number) => {
      const slope = durationMs > 0 ? (to - r) / durationMs : 0;
      this.segments.push({ startMs: t, startCount: count, rate: r, slope, durationMs });
      count += ((r + to) / 2) * (durationMs / 1000);
      t += durationMs;
      r = to;
    };
    if (rampFromMs > 0) push(rampFromMs, rate);
    for (const s of stages) push(s.durationMs, s.target);
    this.segments.push({ startMs: t, startCount: count, rate: r, slope: 0, durationMs: Infinity });
  }

  /** Milliseconds from the schedule's start at which send `k` is due (Infinity if never: a zero rate to the end). */
  timeOf(k: number): number {
    let seg = this.segments[0]!;
    for (const s of this.segments) {
      if (s.startCount > k) break;
      seg = s;
    }
    const n = k - seg.startCount;
    if (seg.slope === 0) return seg.rate > 0 ? seg.startMs + (n / seg.rate) * 1000 : Infinity;
    // Sends in this segment after τ ms: (rate·τ + slope·τ²/2) / 1000 = n; solve for τ.
    const a = seg.slope / 2;
    const b = seg.rate;
    const c = -n * 1000;
    const tau = (-b + Math.sqrt(b * b - 4 * a * c)) / (2 * a);
    return seg.startMs + (Number.isFinite(tau) ? Math.min(tau, seg.durationMs) : seg.durationMs);
  }

  /** The rate (req/s) in force at `ms`. */
  rateAt(ms: number): number {
    let seg = this.segments[0]!;
    for (const s of this.segments) {
      if (s.startMs > ms) break;
      seg = s;
    }
    return seg.rate + seg.slope * Math.min(ms - seg.startMs, seg.durationMs);
  }
}
