import type { Endpoint } from '../base/endpoint.ts';
import { httpDriver } from '../drivers/http-driver.ts';
import type { HttpWorkload } from '../drivers/http-workload.ts';
import { LATE_THRESHOLD_MS } from '../drivers/pacer.ts';
import type { ResourceSampler } from '../metrics/resource-sampler.ts';
import { MetricSink, type SinkSummary } from '../metrics/sink.ts';
import { measureWindow } from '../run/measure-window.ts';

/**
 * Drives an HTTP workload at one endpoint through the run's own steps (the http adapter, the
 * measure-window function, the metric sink), outside a scenario: for tests and benchmarks.
 * `meanwhile` runs alongside the window (a fault by hand); `sampler` samples what services cost.
 */
export async function driveHttp(endpoint: Endpoint, workload: HttpWorkload, opts: { windowMs: number; warmupMs?: number; sampler?: ResourceSampler; meanwhile?: () => Promise<void> }): Promise<SinkSummary> {
  const warmupMs = opts.warmupMs ?? 0;
  const windowStartMs = performance.now() + warmupMs;
  const endMs = windowStartMs + opts.windowMs;
  const sink = new MetricSink({ windowStartMs, lateThresholdMs: LATE_THRESHOLD_MS });
  const driver = httpDriver.adapters.http!.create(workload, { entry: { protocol: 'http', endpoints: [endpoint] }, client: {}, sink, warmupMs, endMs, drainMs: 0 });
  try {
    await Promise.all([measureWindow({ driver, sink, windowStartMs, endMs, ...(opts.sampler ? { sampler: opts.sampler } : {}) }), opts.meanwhile?.()]);
  } finally {
    await driver.close();
  }
  const summary = sink.finish();
  sink.destroy();
  return summary;
}
