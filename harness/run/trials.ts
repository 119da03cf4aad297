import type { DesignResult, SlaVerdict, TrialFigure } from '../result/result.ts';

/** Two-sided 95% critical values of Student's t, by degrees of freedom (1 … 30); beyond 30 the normal's 1.96 is close enough. */
const T95 = [12.706, 4.303, 3.182, 2.776, 2.571, 2.447, 2.365, 2.306, 2.262, 2.228, 2.201, 2.179, 2.16, 2.145, 2.131, 2.12, 2.11, 2.101, 2.093, 2.086, 2.08, 2.074, 2.069, 2.064, 2.06, 2.056, 2.052, 2.048, 2.045, 2.042];

function t95(df: number): number {
  return df >= 1 && df <= T95.length ? T95[df - 1]! : 1.96;
}

function median(sorted: readonly number[]): number {
  const mid = Math.floor(sorted.length / 2);
  return sorted.length % 2 === 1 ? sorted[mid]! : (sorted[mid - 1]! + sorted[mid]!) / 2;
}

/**
 * A figure over repeated trials: every value, their median, and a 95% confidence interval of
 * their mean (Student's t with n − 1 degrees of freedom, which assumes the trials are
 * independent and roughly normal; with one trial the interval is the value itself).
 */
export function trialFigure(values: readonly number[]): TrialFigure {
  const sorted = [...values].sort((a, b) => a - b);
  const n = sorted.length;
  if (n === 0) throw new Error('trialFigure needs at least one value');
  const mean = sorted.reduce((a, b) => a + b, 0) / n;
  const sd = n > 1 ? Math.sqrt(sorted.reduce((a, v) => a + (v - mean) ** 2, 0) / (n - 1)) : 0;
  const half = n > 1 ? (t95(n - 1) * sd) / Math.sqrt(n) : 0;
  return { values: [...values], median: median(sorted), low: mean - half, high: mean + half };
}

/** Whether two figures differ beyond the noise: their 95% intervals do not overlap. */
export function beyondNoise(a: TrialFigure, b: TrialFigure): boolean {
  return a.high < b.low || b.high < a.low;
}

/** Whether a threshold is clear of the noise: the whole 95% interval lies on one side of it. */
export function clearOf(f: TrialFigure, threshold: number): boolean {
  return f.high < threshold || f.low > threshold;
}

/** A design's headline figures, by name, as the trials summary keeps them (latency in µs, errors a fraction). */
export function headlineFigures(d: DesignResult): Record<string, number> {
  const t = d.totals;
  const out: Record<string, number> = {
    throughput: t.throughput,
    p50: t.latencyUs.p50,
    p90: t.latencyUs.p90,
    p99: t.latencyUs.p99,
    p999: t.latencyUs.p999,
  };
  if (t.ops > 0) out.errors = t.errors / t.ops;
  for (const [name, dist] of Object.entries(d.distributions)) if (dist.count > 0) out[`${name} p99`] = dist.latencyUs.p99;
  for (const [name, c] of Object.entries(d.checks)) if (c.value !== null) out[name] = c.value;
  if (d.resources?.cpuUsPerOp != null) out.cpu_per_op = d.resources.cpuUsPerOp;
  return out;
}

/**
 * One entry per design from its trials: the median trial (by p99) stands for the design, with
 * every headline figure over all trials, each SLA line's passes and measured values over all
 * trials, and `passed` only when every trial passed.
 */
export function summarizeTrials(trials: readonly DesignResult[], designs: readonly string[]): DesignResult[] {
  return designs.flatMap((name) => {
    const mine = trials.filter((d) => d.name === name);
    if (mine.length === 0) return [];
    const byP99 = [...mine].sort((a, b) => a.totals.latencyUs.p99 - b.totals.latencyUs.p99);
    const median = byP99[Math.floor((byP99.length - 1) / 2)]!;
    const figureNames = [...new Set(mine.flatMap((d) => Object.keys(headlineFigures(d))))];
    const figures: Record<string, TrialFigure> = {};
    for (const f of figureNames) {
      const values = mine.map((d) => headlineFigures(d)[f]).filter((v): v is number => v !== undefined);
      if (values.length > 0) figures[f] = trialFigure(values);
    }
    const sla = median.sla.map((v) => {
      const same = mine.map((d) => d.sla.find((x) => x.line === v.line)).filter((x): x is SlaVerdict => x !== undefined);
      const values = same.map((x) => x.measured).filter((m): m is number => m !== null);
      if (values.length === 0) return { ...v };
      const measured = trialFigure(values);
      return { ...v, trials: { passed: same.filter((x) => x.pass).length, of: mine.length, measured, clear: clearOf(measured, v.threshold) } };
    });
    const passedTrials = mine.filter((d) => d.passed).length;
    return [{ ...median, sla, passed: passedTrials === mine.length, repeat: { trials: mine.length, passedTrials, figures } }];
  });
}
