import type { SlaVerdict } from './result.ts';

/** Formats a value of a metric for people: `87.3ms`, `0.12%`, `1523/s`, `4`, `412MB`. */
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
    case 'bytes':
      return formatBytes(value);
  }
}

/** Bytes in powers of 1024, as SLA lines write them: `512B`, `84.9KB`, `412MB`, `1.5GB`. */
export function formatBytes(bytes: number): string {
  const units = ['B', 'KB', 'MB', 'GB', 'TB'];
  let i = 0;
  while (i < units.length - 1 && Math.abs(bytes) >= 1024 ** (i + 1)) i++;
  return `${+(bytes / 1024 ** i).toPrecision(3)}${units[i]}`;
}

/** Microseconds as the readable unit: `850µs`, `12.4ms`, `1.52s`. */
export function formatLatency(us: number): string {
  if (us < 1000) return `${Math.round(us)}µs`;
  if (us < 1_000_000) return `${+(us / 1000).toPrecision(3)}ms`;
  return `${+(us / 1_000_000).toPrecision(3)}s`;
}
