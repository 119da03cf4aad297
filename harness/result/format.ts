import type { SlaVerdict } from './result.ts';

/** Formats a value of a metric for people: `87.3ms`, `0.12%`, `1523/s`, `4`. */
export function formatValue(value: number | null, unit: SlaVerdict['unit']): string {
  if (value === null) return 'no data';
  switch (unit) {
    case 'latency':
      return formatLatency(value);
    case 'fraction':
      return `${+(value * 100).toPrecision(3)}%`;
    case 'per-second':
      return `${+value.toFixed(1)}/s`;
    case 'count':
      return String(value);
  }
}

/** Microseconds as the readable unit: `850µs`, `12.4ms`, `1.52s`. */
export function formatLatency(us: number): string {
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${+(us / 1000).toPrecision(3)}ms`;
  return `${+(us / 1_000_000).toPrecision(3)}s`;
}
