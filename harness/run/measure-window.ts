import { setTimeout as sleep } from 'node:timers/promises';
import type { LoadDriver } from '../drivers/driver.ts';
import type { FaultTimeline } from '../faults/fault-timeline.ts';
import type { ResourceSampler } from '../metrics/resource-sampler.ts';
import type { MetricSink } from '../metrics/sink.ts';
import type { SecondStats } from '../result/result.ts';

/** One design's warm-up and measured window, on the performance.now() clock. */
export interface WindowPlan {
  driver: LoadDriver;
  sink: MetricSink;
  /** When the measured window starts (warm-up runs before it, from now). */
  windowStartMs: number;
  /** When it ends. */
  endMs: number;
  /** The fault timeline, started with the window; none for a run without faults. */
  timeline?: FaultTimeline;
  /** Samples what the services cost: at the window's start, after every second (on `row.resources`) and at its end. */
  sampler?: ResourceSampler;
  /** Aborts the wait (Ctrl-C, a failed fault): the caller closes what was measured. */
  signal?: AbortSignal;
  onWarmupEnd?(): void;
  /** One measured second closed. */
  onSecond?(row: SecondStats, windowSeconds: number): void;
}

async function sleepUntil(ms: number, signal: AbortSignal | undefined): Promise<void> {
  const wait = ms - performance.now();
  if (wait > 0) await sleep(wait, undefined, signal ? { signal } : undefined);
  signal?.throwIfAborted();
}

/**
 * Drives one design from now to the window's end: the driver starts (warm-up), the window
 * opens, faults run on their timeline, each second is closed into a row, and at the end sending
 * stops and operations in flight finish. The run, the benchmarks and the tests all measure
 * through this one function. Throws when `signal` aborts, leaving the sink open for the caller
 * to close.
 */
export async function measureWindow(plan: WindowPlan): Promise<void> {
  const { driver, sink, windowStartMs, endMs, timeline, signal } = plan;
  driver.start({ windowStartMs, endMs });
  await sleepUntil(windowStartMs, signal);
  plan.onWarmupEnd?.();
  timeline?.start();
  // Passes are never awaited here: reading the services must not hold up the seconds.
  void plan.sampler?.start();
  // To the ms first: endMs - windowStartMs of an 8 s window can come out 8000.000000001.
  const windowSeconds = Math.ceil(Math.round(endMs - windowStartMs) / 1000);
  for (let s = 1; windowStartMs + s * 1000 < endMs; s++) {
    await sleepUntil(windowStartMs + s * 1000, signal);
    const row = sink.tick(performance.now());
    void plan.sampler?.sample(row);
    const active = timeline?.activeBetween((s - 1) * 1000, s * 1000) ?? [];
    if (active.length > 0) row.faults = active;
    plan.onSecond?.(row, windowSeconds);
  }
  await sleepUntil(endMs, signal);
  const lastSample = plan.sampler?.finish();
  await timeline?.stop();
  const closedRows = sink.series.length;
  sink.closeWindow(endMs);
  const lastRow = sink.series[closedRows];
  const last = await lastSample;
  if (lastRow && last) lastRow.resources = last;
  await driver.stop();
}

/**
 * After the window: the driver's drain, if it has one, until it caught up or the deadline
 * passed. Returns how long it took and whether it finished.
 */
export async function drainDesign(driver: LoadDriver, deadlineMs: number): Promise<{ ms: number; deadlineMs: number; complete: boolean } | undefined> {
  if (!driver.drain) return undefined;
  const began = performance.now();
  const complete = await driver.drain(deadlineMs);
  return { ms: Math.round(performance.now() - began), deadlineMs, complete };
}
