import { parseDuration } from '../base/duration.ts';
import { SEND_LAG, type MetricSink } from '../metrics/sink.ts';
import { ArrivalSchedule } from './arrival-schedule.ts';
import { PreciseClock } from './precise-clock.ts';
import type { Duration } from '../base/duration.ts';
import type { RunWindow } from './driver.ts';

/** A send dispatched more than this after its intended time counts as late (ms). */
export const LATE_THRESHOLD_MS = 10;

/**
 * Timers fire a millisecond or more late, so the pacer sleeps on a timer only until this close
 * to the next send (ms), and waits the rest on a PreciseClock: sends leave within tens of µs of
 * their time while the generator keeps up, with hardly any spinning on the CPU the target needs.
 */
const TIMER_SLACK_MS = 3;

/**
 * Waking the event loop from the clock's thread takes 0.1–0.15 ms here, so the clock wakes the
 * pacer this much early and the pacer turns the loop with setImmediate for the rest: a short
 * spin per send, with I/O still handled between turns.
 */
const SPIN_MS = 0.25;

/** Operations in flight, and a way to wait (bounded) until none are. */
export class InFlight {
  count = 0;
  private waiters: (() => void)[] = [];
  readonly done = (): void => {
    this.count--;
    if (this.count === 0) for (const w of this.waiters.splice(0)) w();
  };

  /** Resolves when nothing is in flight, or after `boundMs`. */
  drained(boundMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, boundMs);
      this.waiters.push(() => {
        clearTimeout(t);
        resolve();
      });
    });
  }
}

/** Sends operation number `k`, due at `dueMs` (performance.now() clock); calls `done` exactly once when it finished. */
export type SendOne = (k: number, dueMs: number, done: () => void) => void;

/** The open model's schedule as a workload states it. */
export interface OpenLoad {
  /** Operations per second at the start (and during warm-up). */
  rate: number;
  /** Ramps after warm-up, each linear from the previous rate to `target` over `duration`. */
  stages?: { duration: Duration; target: number }[];
  /** Operations in flight at most; a send beyond it is dropped and counted. */
  maxInFlight?: number;
}

/**
 * The open model for every driver: operation k is due at the schedule's time, whatever the
 * target does; each send leaves on time or records its lag behind that time (the `send_lag`
 * distribution, µs), and latency counts from the intended time. A send that would exceed the
 * in-flight cap is dropped and counted, never queued.
 */
export class OpenPacer {
  readonly targetRate: number;
  private readonly load: OpenLoad;
  private readonly maxInFlight: number;
  private readonly inFlight = new InFlight();
  private readonly sink: MetricSink;
  private readonly send: SendOne;
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private clock: PreciseClock | undefined;
  private stopped = false;
  /** Sends whatever is due by now and before the window's end (the pump, once started). */
  private catchUp: (() => void) | undefined;

  constructor(load: OpenLoad, opts: { sink: MetricSink; send: SendOne }) {
    this.targetRate = load.rate;
    this.load = load;
    this.maxInFlight = load.maxInFlight ?? 10_000;
    this.sink = opts.sink;
    this.send = opts.send;
  }

  /** Sends from now: the warm-up at the starting rate until the window opens, then the ramps, until the window ends. */
  start(window: RunWindow): void {
    // The schedule is the window's: a pacer started after the window opened (no warm-up, and
    // setting up took a few ms) sends what fell due since then at once, late, rather than
    // shifting every send later and losing the window's last ones.
    const origin = Math.min(performance.now(), window.windowStartMs);
    const schedule = new ArrivalSchedule(this.load.rate, Math.max(0, window.windowStartMs - origin), (this.load.stages ?? []).map((s) => ({ durationMs: parseDuration(s.duration)!, target: s.target })));
    const endMs = window.endMs;
    const clock = (this.clock = new PreciseClock());
    let k = 0;
    const pump = (): void => {
      this.timer = undefined;
      this.immediate = undefined;
      if (this.stopped) return;
      for (;;) {
        const due = origin + schedule.timeOf(k);
        if (due >= endMs) return;
        const now = performance.now();
        if (due > now) break;
        const index = k++;
        if (this.inFlight.count >= this.maxInFlight) {
          this.sink.dropped(due);
          continue;
        }
        this.sink.sent(due, now - due);
        this.sink.value(SEND_LAG, due, Math.round((now - due) * 1000));
        this.inFlight.count++;
        this.send(index, due, this.inFlight.done);
      }
      const next = origin + schedule.timeOf(k);
      const wait = next - performance.now();
      if (wait > TIMER_SLACK_MS) this.timer = setTimeout(pump, wait - TIMER_SLACK_MS);
      else if (wait > SPIN_MS) clock.wakeAt(next - SPIN_MS, pump);
      else this.immediate = setImmediate(pump);
    };
    this.catchUp = pump;
    pump();
  }

  /**
   * Stops sending and waits until what is in flight finished, at most `boundMs`. What fell due
   * before the window's end and is still unsent (the event loop was busy when its turn came) is
   * sent first, late, with its lag: the window's schedule is sent whole (a run stopped early
   * sends what fell due by then). `sendDue: false` when a driver closes: nothing more is sent.
   */
  async stop(boundMs: number, sendDue = true): Promise<void> {
    if (!this.stopped && sendDue) this.catchUp?.();
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (this.immediate) clearImmediate(this.immediate);
    await this.clock?.close();
    this.clock = undefined;
    await this.inFlight.drained(boundMs);
  }
}

/**
 * The closed model for every driver: `connections` loops, each sending its next operation when
 * the previous one finished, until the window ends. Latency counts from the actual send.
 */
export class ClosedLoops {
  readonly connections: number;
  private readonly inFlight = new InFlight();
  private readonly sink: MetricSink;
  private readonly send: SendOne;
  private stopped = false;

  constructor(connections: number, opts: { sink: MetricSink; send: SendOne }) {
    this.connections = connections;
    this.sink = opts.sink;
    this.send = opts.send;
  }

  start(window: RunWindow): void {
    const { endMs } = window;
    let k = 0;
    const loop = (): void => {
      if (this.stopped || performance.now() >= endMs) {
        this.inFlight.done();
        return;
      }
      const now = performance.now();
      this.sink.sent(now, 0);
      // A new turn of the event loop per operation, so a fast error (refused) cannot recurse.
      this.send(k++, now, () => setImmediate(loop));
    };
    for (let c = 0; c < this.connections; c++) {
      this.inFlight.count++;
      loop();
    }
  }

  /** Stops sending and waits until every loop finished its operation, at most `boundMs`. */
  async stop(boundMs: number): Promise<void> {
    this.stopped = true;
    await this.inFlight.drained(boundMs);
  }
}
