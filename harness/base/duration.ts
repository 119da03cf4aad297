/**
 * Durations in scenarios and on the command line are strings such as `500ms`, `3s`, `2m`,
 * `1m30s` or `1h`. A bare number is not accepted: the unit is always written.
 */
export type Duration = `${number}${'ms' | 's' | 'm' | 'h'}` | (string & {});

/**
 * The longest duration a scenario or a flag may give (24 h): a run's measured window, its
 * warm-up, a fault's offset and length, a timeout, a ramp stage, an SLA window. Node's timers
 * fire at once past 2^31 - 1 ms (~24.8 days), so a longer value would not wait at all; 24 h is
 * far inside that even after `--time-scale 10`, and longer than any benchmark should run.
 */
export const MAX_DURATION_MS = 24 * 3_600_000;
/** `MAX_DURATION_MS` as written in messages and docs. */
export const MAX_DURATION = '24h';

const unitMs: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
const part = /(\d+(?:\.\d+)?)(ms|s|m|h)/y;

/** Parses a duration to milliseconds, or returns undefined when the text is not one. */
export function parseDuration(text: string): number | undefined {
  const s = text.trim();
  if (s.length === 0) return undefined;
  let total = 0;
  part.lastIndex = 0;
  while (part.lastIndex < s.length) {
    const at = part.lastIndex;
    const m = part.exec(s);
    if (!m || m.index !== at) return undefined;
    total += Number(m[1]) * (unitMs[m[2]!] ?? NaN);
  }
  return Number.isFinite(total) ? Math.round(total) : undefined;
}

/** Formats milliseconds as the shortest readable duration (`1.5s`, `250ms`, `2m`). */
export function formatDuration(ms: number): string {
  if (ms < 1000) return `${Math.round(ms)}ms`;
  if (ms < 60_000 || ms % 60_000 !== 0) return `${+(ms / 1000).toFixed(3)}s`;
  return `${ms / 60_000}m`;
}
