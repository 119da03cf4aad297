import { createRequire } from 'node:module';
import type * as Hdr from 'hdr-histogram-js';
import type { Histogram } from 'hdr-histogram-js';
import type { LatencyFigures } from '../result/result.ts';

let hdrModule: typeof Hdr | undefined;
/**
 * hdr-histogram-js, loaded on first use (synchronously: histograms are made in hot paths that do
 * not await). Listing or validating scenarios loads this file for the SLA registry and never
 * makes a histogram.
 */
function hdr(): typeof Hdr {
  return (hdrModule ??= createRequire(import.meta.url)('hdr-histogram-js') as typeof Hdr);
}

export type { Histogram };

/**
 * Every latency histogram in faultline: microsecond values, 3 significant digits, 1 µs to
 * 60 s before it resizes. One shape everywhere, so any two histograms add exactly.
 */
export function newHistogram(): Histogram {
  return hdr().build({
    bitBucketSize: 32,
    autoResize: true,
    lowestDiscernibleValue: 1,
    highestTrackableValue: 60_000_000,
    numberOfSignificantValueDigits: 3,
  });
}

/** The compact, lossless text form stored in result.json. */
export function encodeHistogram(h: Histogram): string {
  return hdr().encodeIntoCompressedBase64(h);
}

export function decodeHistogram(encoded: string): Histogram {
  const decoded = hdr().decodeFromCompressedBase64(encoded, 32, false);
  // Decoding yields a histogram sized to its own content; copy into the standard shape so
  // later `add` calls never depend on which one was decoded first.
  const h = newHistogram();
  h.add(decoded);
  decoded.destroy();
  return h;
}

/** Adds encoded histograms into one (the exact merge; percentiles are never averaged). */
export function mergeEncoded(encoded: Iterable<string>): Histogram {
  const total = newHistogram();
  for (const e of encoded) {
    const h = hdr().decodeFromCompressedBase64(e, 32, false);
    total.add(h);
    h.destroy();
  }
  return total;
}

/** Latency figures of one histogram, in microseconds, and how many values it holds. */
export type LatencySummary = LatencyFigures & { count: number };

export function summarize(h: Histogram): LatencySummary {
  if (h.totalCount === 0) return { count: 0, min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 };
  return {
    count: h.totalCount,
    min: h.minNonZeroValue,
    mean: Math.round(h.mean),
    p50: h.getValueAtPercentile(50),
    p90: h.getValueAtPercentile(90),
    p99: h.getValueAtPercentile(99),
    p999: h.getValueAtPercentile(99.9),
    max: h.maxValue,
  };
}
