import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Endpoint } from '../base/endpoint.ts';
import { runCheckers } from '../checkers/run-checkers.ts';
import type { AnyDriver } from '../drivers/index.ts';
import { httpDriver } from '../drivers/http-driver.ts';
import type { HttpWorkload } from '../drivers/http-workload.ts';
import type { LoadDriver } from '../drivers/driver.ts';
import { LATE_THRESHOLD_MS } from '../drivers/pacer.ts';
import type { ResourceSampler } from '../metrics/resource-sampler.ts';
import { MetricSink, type SinkSummary } from '../metrics/sink.ts';
import type { CheckCount } from '../result/result.ts';
import { drainDesign, measureWindow } from '../run/measure-window.ts';

export interface DriveOptions {
  windowMs: number;
  warmupMs?: number;
  /** Samples what the services cost. */
  sampler?: ResourceSampler;
  /** Runs alongside the window (a fault by hand); it is handed the driver. */
  meanwhile?: (driver: LoadDriver) => Promise<void>;
  /** Reads the run's history file (JSON lines) before it is removed: a test's own count of what the driver saw. */
  history?: (file: string) => Promise<void>;
}

export interface Driven {
  summary: SinkSummary;
  /** The drain after the window, for a driver that has one. */
  drain?: { ms: number; complete: boolean };
  /** The workload's checkers over the history, by count name. */
  checks: Record<string, CheckCount>;
}

/**
 * Drives a workload at one design's entry through the run's own steps (the kind's adapter, the
 * measure-window function, the drain, the metric sink and the checkers over its history),
 * outside a scenario: for tests and benchmarks.
 */
export async function drive(kind: AnyDriver, protocol: string, endpoints: readonly Endpoint[], workload: unknown, client: unknown, opts: DriveOptions): Promise<Driven> {
  const adapter = kind.adapters[protocol];
  if (!adapter) throw new Error(`the workload has no ${protocol} adapter`);
  const parsedClient: unknown = adapter.client.parse(client ?? {});
  const parsedWorkload: unknown = kind.workload.parse(workload);
  const checkers = kind.checkers ?? [];
  const keepsHistory = kind.keepsHistory?.(parsedWorkload) ?? checkers.length > 0;
  const dir = keepsHistory ? await mkdtemp(join(tmpdir(), 'faultline-drive-')) : undefined;
  const historyFile = dir ? join(dir, 'history.jsonl') : undefined;
  try {
    const warmupMs = opts.warmupMs ?? 0;
    const drainMs = kind.drainMs?.(parsedWorkload) ?? 0;
    const sink = new MetricSink({ windowStartMs: performance.now() + warmupMs, lateThresholdMs: LATE_THRESHOLD_MS, ...(historyFile ? { historyFile } : {}) });
    const driver = adapter.create(parsedWorkload, { entry: { protocol, endpoints }, client: parsedClient, sink, drainMs });
    let drained: Awaited<ReturnType<typeof drainDesign>>;
    try {
      await driver.prepare?.();
      const windowStartMs = performance.now() + warmupMs;
      const endMs = windowStartMs + opts.windowMs;
      sink.anchor(windowStartMs);
      await Promise.all([measureWindow({ driver, sink, windowStartMs, endMs, ...(opts.sampler ? { sampler: opts.sampler } : {}) }), opts.meanwhile?.(driver)]);
      drained = await drainDesign(driver, drainMs);
    } finally {
      await driver.close();
    }
    const summary = sink.finish();
    sink.destroy();
    const checks = keepsHistory ? await runCheckers(checkers, historyFile, [], opts.windowMs) : {};
    if (historyFile) await opts.history?.(historyFile);
    return { summary, checks, ...(drained ? { drain: { ms: drained.ms, complete: drained.complete } } : {}) };
  } finally {
    if (dir) await rm(dir, { recursive: true, force: true });
  }
}

/** Drives an HTTP workload at one endpoint (see `drive`); `meanwhile` runs alongside the window. */
export async function driveHttp(endpoint: Endpoint, workload: HttpWorkload, opts: { windowMs: number; warmupMs?: number; sampler?: ResourceSampler; meanwhile?: () => Promise<void> }): Promise<SinkSummary> {
  return (await drive(httpDriver, 'http', [endpoint], workload, {}, opts)).summary;
}
