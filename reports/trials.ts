import { formatValue } from '../harness/result/format.ts';
import type { DesignResult, RunResult, SlaUnit, SlaVerdict, TrialFigure } from '../harness/result/result.ts';

/** The unit of a figure the trials summary keeps (headline-figures in harness/run/trials.ts). */
function unitOf(name: string): SlaUnit {
  if (name === 'throughput') return 'per-second';
  if (name === 'errors') return 'fraction';
  if (/^p\d+$/.test(name) || name.endsWith(' p99') || name === 'cpu_per_op') return 'latency';
  return 'count';
}

/** A figure over trials for people: `12.3ms [10.1ms–14.5ms]` (median, then the 95% interval). */
export function trialText(name: string, f: TrialFigure): string {
  const u = unitOf(name);
  return `${formatValue(f.median, u)} [${formatValue(Math.max(0, f.low), u)}–${formatValue(f.high, u)}]`;
}

/** With --repeat: each figure of a design over its trials, one per line. */
export function trialLines(d: DesignResult): string[] {
  if (!d.repeat) return [];
  const head = `over ${d.repeat.trials} trials (${d.repeat.passedTrials} passed; median [95% interval]; this entry is the median trial by p99):`;
  return [head, ...Object.entries(d.repeat.figures).map(([name, f]) => `  ${name} ${trialText(name, f)}`)];
}

/** An SLA verdict's standing over the trials: `3/3 trials, clear of the noise`. */
export function slaTrialText(v: SlaVerdict): string {
  if (!v.trials) return '';
  return `${v.trials.passed}/${v.trials.of} trials, ${v.trials.clear ? 'clear of the noise' : 'within the noise of its threshold'}`;
}

/**
 * With --repeat: for each figure every design has, which pairs of designs differ beyond the
 * noise (their 95% intervals do not overlap), e.g. `p99: cluster-2 < single`; pairs whose
 * intervals overlap are not told apart.
 */
export function noiseLines(result: RunResult): string[] {
  const withTrials = result.designs.filter((d) => d.repeat);
  if (withTrials.length < 2) return [];
  const names = Object.keys(withTrials[0]!.repeat!.figures).filter((n) => withTrials.every((d) => d.repeat!.figures[n]));
  const lines: string[] = [];
  for (const name of names) {
    const told: string[] = [];
    for (let i = 0; i < withTrials.length; i++) {
      for (let j = i + 1; j < withTrials.length; j++) {
        const a = withTrials[i]!;
        const b = withTrials[j]!;
        const fa = a.repeat!.figures[name]!;
        const fb = b.repeat!.figures[name]!;
        if (fa.high < fb.low) told.push(`${a.name} < ${b.name}`);
        else if (fb.high < fa.low) told.push(`${b.name} < ${a.name}`);
        else told.push(`${a.name} ≈ ${b.name}`);
      }
    }
    lines.push(`${name}: ${told.join(', ')}`);
  }
  return [`between designs over ${withTrials[0]!.repeat!.trials} trials (< beyond the noise, ≈ within it):`, ...lines.map((l) => `  ${l}`)];
}
