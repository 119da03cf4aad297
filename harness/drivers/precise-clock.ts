import { Worker } from 'node:worker_threads';

// The waiting thread: sleeps on a futex (Atomics.wait, fractional milliseconds) until the time
// it was given, then posts the generation it fired for and waits for the next one. Plain
// JavaScript, evaluated, so it needs no file of its own at run time.
const waiter = `
const { workerData, parentPort } = require('node:worker_threads');
const gen = new Int32Array(workerData, 0, 1);
const at = new Float64Array(workerData, 8, 1);
for (;;) {
  const g = Atomics.load(gen, 0);
  if (g < 0) break;
  const target = at[0];
  const left = target - (performance.timeOrigin + performance.now());
  if (target > 0 && left <= 0) {
    parentPort.postMessage(g);
    Atomics.wait(gen, 0, g);
    continue;
  }
  Atomics.wait(gen, 0, g, target > 0 ? left : Infinity);
}
`;

/** Milliseconds on the clock both threads share (the epoch, with sub-millisecond precision). */
function epochNow(): number {
  return performance.timeOrigin + performance.now();
}

/**
 * A wake-up with sub-millisecond precision and no busy waiting. Node's timers fire a
 * millisecond or more late; this clock hands the wait to a thread that sleeps on a futex
 * until the exact time and then wakes the event loop with a message (tens of µs when the loop
 * is idle). One wake-up is pending at a time: asking again replaces it.
 */
export class PreciseClock {
  private readonly shared = new SharedArrayBuffer(16);
  private readonly gen = new Int32Array(this.shared, 0, 1);
  private readonly at = new Float64Array(this.shared, 8, 1);
  private readonly worker: Worker;
  private pending: { gen: number; fn: () => void } | undefined;

  constructor() {
    this.worker = new Worker(waiter, { eval: true, workerData: this.shared });
    this.worker.unref();
    this.worker.on('message', (g: number) => {
      const p = this.pending;
      if (!p || p.gen !== g) return;
      this.pending = undefined;
      p.fn();
    });
  }

  /** Calls `fn` once the performance.now() clock reaches `ms`; replaces any wake-up not yet called. */
  wakeAt(ms: number, fn: () => void): void {
    this.at[0] = epochNow() + (ms - performance.now());
    const g = Atomics.add(this.gen, 0, 1) + 1;
    this.pending = { gen: g, fn };
    Atomics.notify(this.gen, 0);
  }

  /** Drops the pending wake-up, if any. */
  cancel(): void {
    this.pending = undefined;
  }

  /** Ends the waiting thread. Idempotent. */
  async close(): Promise<void> {
    this.pending = undefined;
    Atomics.store(this.gen, 0, -1);
    Atomics.notify(this.gen, 0);
    await this.worker.terminate();
  }
}
