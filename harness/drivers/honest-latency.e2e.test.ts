import { describe, expect, it } from 'vitest';
import { httpServiceSpec } from '../../targets/http-service/http-service.ts';
import { decodeHistogram } from '../metrics/histogram.ts';
import { driveHttp } from '../testing/drive.ts';
import { localServiceForFile } from '../testing/service-for-file.ts';
import { http, type HttpWorkload } from './http-workload.ts';

const local = localServiceForFile('hl', () => httpServiceSpec());

/** Drives `workload` at the service for `ms` through the run's measure-window step, doing `meanwhile` alongside. */
function drive(workload: HttpWorkload, ms: number, meanwhile?: () => Promise<void>) {
  return driveHttp(local.service().endpoint(), workload, { windowMs: ms, ...(meanwhile ? { meanwhile } : {}) });
}

/** Drives `workload` for 3 s and freezes the target (SIGSTOP) for 500 ms after the first second. */
function driveWithStall(workload: HttpWorkload) {
  return drive(workload, 3000, async () => {
    await new Promise((r) => setTimeout(r, 1000));
    await local.service().pause();
    await new Promise((r) => setTimeout(r, 500));
    await local.service().resume();
  });
}

describe('honest latency', () => {
  it('open model: a 500 ms stall at 200 req/s shows in p99, because latency counts from the intended send time', async () => {
    const { totals, sends } = await driveWithStall(http({ model: 'open', rate: 200, path: '/work?ms=1' }));
    expect(sends.sent).toBeGreaterThanOrEqual(590);
    expect(totals.errors).toBe(0);
    // About 100 of 600 requests were due during the stall; their latencies spread up to 500 ms.
    expect(totals.latencyUs.p99).toBeGreaterThanOrEqual(400_000);
    expect(totals.latencyUs.p90).toBeGreaterThanOrEqual(100_000);
  });

  it('closed model: the same stall hides in the percentiles (coordinated omission)', async () => {
    const { totals } = await driveWithStall(http({ model: 'closed', connections: 10, path: '/work?ms=1' }));
    // Only the 10 requests in flight saw the stall …
    expect(totals.latencyUs.max).toBeGreaterThanOrEqual(400_000);
    // … so p99 stays far below it, while the open model's p99 is ≥ 400 ms.
    expect(totals.latencyUs.p99).toBeLessThan(100_000);
    expect(totals.ops).toBeGreaterThan(1000);
  });

  it('closed model on the autocannon engine records µs latencies too', async () => {
    const { totals } = await drive(http({ model: 'closed', connections: 4, path: '/work?ms=1', engine: 'autocannon' }), 1500);
    expect(totals.ok).toBeGreaterThan(100);
    expect(totals.errors).toBe(0);
    // Sub-millisecond resolution: a whole-millisecond recorder would only give multiples of 1000.
    const h = decodeHistogram(totals.histogram);
    const percentiles = [10, 25, 50, 75, 90].map((p) => h.getValueAtPercentile(p));
    expect(percentiles.some((v) => v % 1000 !== 0)).toBe(true);
  });

  it('closed model on the raw engine records µs latencies, every request counted once, and who served them', async () => {
    const { totals, sends, tallies } = await drive(http({ model: 'closed', connections: 4, path: '/work?ms=1', engine: 'raw' }), 1500);
    expect(totals.ok).toBeGreaterThan(100);
    expect(totals.errors).toBe(0);
    // Each send finished, in the window or just after it: none lost, none counted twice.
    expect(totals.ops).toBe(sends.sent);
    // The service answers with its pid in x-served-by: one process served them all.
    expect(Object.values(tallies.served_by ?? {})).toEqual([totals.ops]);
    // A request burns 1 ms of the service's CPU, so none can take less.
    expect(totals.latencyUs.min).toBeGreaterThanOrEqual(1000);
    const h = decodeHistogram(totals.histogram);
    const percentiles = [10, 25, 50, 75, 90].map((p) => h.getValueAtPercentile(p));
    expect(percentiles.some((v) => v % 1000 !== 0)).toBe(true);
  });
});
