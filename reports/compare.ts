import { formatValue } from '../harness/result/format.ts';
import type { DesignResult, RunResult, SlaVerdict, Wording } from '../harness/result/result.ts';
import { figureEntries, type Figure, type FigureName } from './figures.ts';
import { metricInfo, metricNames } from './named-metrics.ts';

/** How far a figure may move the wrong way before `compare` calls it a regression. */
export interface CompareThresholds {
  /** Largest allowed rise of a latency percentile (p50, p90, p99, p99.9), relative: 0.1 = +10%. */
  latencyIncrease: number;
  /** Largest allowed fall of throughput (ok/s), relative: 0.1 = −10%. */
  throughputDrop: number;
  /** Largest allowed rise of the error rate, absolute: 0.001 = +0.1 percentage points. */
  errorRateIncrease: number;
}

/** +10% latency, −10% throughput, +0.1 percentage points of errors. */
export const DEFAULT_THRESHOLDS: CompareThresholds = { latencyIncrease: 0.1, throughputDrop: 0.1, errorRateIncrease: 0.001 };

/** One value of a design in both runs, with its change and, where it is judged, its bound. */
export interface Change {
  label: string;
  unit: Figure['unit'];
  baseline: number | null;
  current: number | null;
  /** `+12.3%`, `−4%`, `+0.15 pp` for fractions, `+3` for checker counts, `—` when there is nothing to compare. */
  changeText: string;
  /** The bound it is judged against (`≤ +10%`, `no rise`); absent for values shown but not judged. */
  limitText?: string;
  regression: boolean;
}

/** One headline figure of a design in both runs; the operation count, max, mean, late and dropped are shown, not judged. */
export interface FigureChange extends Change {
  name: FigureName;
}

/**
 * One named value of a design in both runs: a checker's count (`lost`), judged by the way the
 * scenario says is better (any move the other way is a regression), or a named distribution's
 * p99 (`e2e p99`), shown but not judged.
 */
export interface NamedChange extends Change {
  name: string;
  kind: 'check' | 'distribution';
}

/** One SLA line of a design in both runs; a regression when it held before and fails now. */
export interface SlaChange {
  line: string;
  baseline?: SlaVerdict;
  current?: SlaVerdict;
  regression: boolean;
}

/** A design present in both runs (matched by name). */
export interface DesignComparison {
  name: string;
  baseline: DesignResult;
  current: DesignResult;
  figures: FigureChange[];
  /** Checker counts, then named distributions' p99, of either run. */
  named: NamedChange[];
  sla: SlaChange[];
  /** Every regression of this design, for people: `p99 12.3ms → 18.1ms (+47.2%, limit ≤ +10%)`. */
  regressions: string[];
}

/** Two runs side by side. Pure data: the HTML and Markdown renderers only format it. */
export interface Comparison {
  baseline: RunResult;
  current: RunResult;
  thresholds: CompareThresholds;
  designs: DesignComparison[];
  onlyInBaseline: string[];
  onlyInCurrent: string[];
  /** Differences that make the comparison less like-for-like (scenario, load, machine). */
  notes: string[];
  /** Every regression, `design: what`. Non-empty means `faultline compare` exits 1. */
  regressions: string[];
}

const sign = (x: number) => (x > 0 ? '+' : x < 0 ? '−' : '');
const pct = (x: number) => `${sign(x)}${+Math.abs(x * 100).toPrecision(3)}%`;
const pp = (x: number) => `${sign(x)}${+Math.abs(x * 100).toPrecision(3)} pp`;
/** Float noise below this never makes a fraction "rise". */
const EPSILON = 1e-12;

/** The thresholds for people: `latency percentiles ≤ +10%, throughput ≥ −10%, error rate ≤ +0.1 pp, checker counts no worse`. */
export function describeThresholds(t: CompareThresholds): string {
  return `latency percentiles ≤ ${pct(t.latencyIncrease)}, throughput ≥ ${pct(-t.throughputDrop)}, error rate ≤ ${pp(t.errorRateIncrease)}, checker counts no worse`;
}

/** Which judged bound applies to a figure, and whether a move from `b` to `c` breaks it. */
function judge(name: FigureName, b: number, c: number, t: CompareThresholds): { limitText: string; regression: boolean } | undefined {
  switch (name) {
    case 'p50':
    case 'p90':
    case 'p99':
    case 'p999':
      return { limitText: `≤ ${pct(t.latencyIncrease)}`, regression: b > 0 && c > b * (1 + t.latencyIncrease) };
    case 'throughput':
      return { limitText: `≥ ${pct(-t.throughputDrop)}`, regression: c < b * (1 - t.throughputDrop) };
    case 'errors':
      // The epsilon keeps a rise of exactly the threshold (0.0011 − 0.0001) from failing on float noise.
      return { limitText: `≤ ${pp(t.errorRateIncrease)}`, regression: c - b > t.errorRateIncrease + EPSILON };
    default:
      return undefined;
  }
}

function figureChange(name: FigureName, f: Figure, b: DesignResult, c: DesignResult, t: CompareThresholds, wording: Wording): FigureChange {
  const bv = f.value(b);
  const cv = f.value(c);
  const base = { name, label: f.label(wording), unit: f.unit, baseline: bv, current: cv };
  if (bv === null || cv === null) return { ...base, changeText: '—', regression: false };
  const changeText = f.unit === 'fraction' ? pp(cv - bv) : bv === 0 ? (cv === 0 ? '0%' : 'new') : pct((cv - bv) / bv);
  const judged = judge(name, bv, cv, t);
  if (!judged) return { ...base, changeText, regression: false };
  // With trials on both sides, a move inside the noise (the 95% intervals overlap) is no regression.
  const bt = b.repeat?.figures[name];
  const ct = c.repeat?.figures[name];
  if (judged.regression && bt && ct && !(bt.high < ct.low || ct.high < bt.low)) return { ...base, changeText: `${changeText} (within the noise)`, limitText: judged.limitText, regression: false };
  return { ...base, changeText, ...judged };
}

/** A checker's count in both runs, judged when the scenario says which way is better. */
function checkChange(name: string, b: DesignResult, c: DesignResult, runs: { baseline: RunResult; current: RunResult }): NamedChange {
  const bc = b.checks[name];
  const cc = c.checks[name];
  const unit = (cc ?? bc)!.unit;
  const bv = bc?.value ?? null;
  const cv = cc?.value ?? null;
  const better = (metricInfo(runs.current, name) ?? metricInfo(runs.baseline, name))?.better ?? 'neither';
  const base = { name, kind: 'check' as const, label: name, unit, baseline: bv, current: cv };
  if (bv === null || cv === null) return { ...base, changeText: '—', regression: false };
  const changeText = unit === 'fraction' ? pp(cv - bv) : `${sign(cv - bv)}${Math.abs(cv - bv)}`;
  if (better === 'neither') return { ...base, changeText, regression: false };
  const worse = better === 'lower' ? cv - bv > EPSILON : bv - cv > EPSILON;
  return { ...base, changeText, limitText: better === 'lower' ? 'no rise' : 'no fall', regression: worse };
}

/** A named distribution's p99 in both runs: shown, not judged. */
function distributionChange(name: string, b: DesignResult, c: DesignResult): NamedChange {
  const p99 = (d: DesignResult) => {
    const x = d.distributions[name];
    return x && x.count > 0 ? x.latencyUs.p99 : null;
  };
  const bv = p99(b);
  const cv = p99(c);
  const base = { name, kind: 'distribution' as const, label: `${name} p99`, unit: 'latency' as const, baseline: bv, current: cv };
  if (bv === null || cv === null) return { ...base, changeText: '—', regression: false };
  return { ...base, changeText: bv === 0 ? (cv === 0 ? '0%' : 'new') : pct((cv - bv) / bv), regression: false };
}

function namedChanges(b: DesignResult, c: DesignResult, runs: { baseline: RunResult; current: RunResult }): NamedChange[] {
  return [
    ...metricNames(runs.current, 'check', [b, c]).map((n) => checkChange(n, b, c, runs)),
    ...metricNames(runs.current, 'distribution', [b, c]).map((n) => distributionChange(n, b, c)),
  ];
}

function slaChanges(b: DesignResult, c: DesignResult): SlaChange[] {
  const lines = [...new Set([...b.sla.map((v) => v.line), ...c.sla.map((v) => v.line)])];
  return lines.map((line) => {
    const bv = b.sla.find((v) => v.line === line);
    const cv = c.sla.find((v) => v.line === line);
    return { line, ...(bv ? { baseline: bv } : {}), ...(cv ? { current: cv } : {}), regression: bv?.pass === true && cv?.pass === false };
  });
}

function compareDesign(b: DesignResult, c: DesignResult, t: CompareThresholds, runs: { baseline: RunResult; current: RunResult }): DesignComparison {
  const figures = figureEntries().map(([name, f]) => figureChange(name, f, b, c, t, runs.current.scenario.wording));
  const named = namedChanges(b, c, runs);
  const sla = slaChanges(b, c);
  const regressions = [
    ...(b.status === 'completed' && c.status !== 'completed' ? [`did not complete (${c.status}${c.error ? `: ${c.error}` : ''})`] : []),
    ...[...figures, ...named].filter((f) => f.regression).map((f) => `${f.label} ${formatValue(f.baseline, f.unit)} → ${formatValue(f.current, f.unit)} (${f.changeText}, limit ${f.limitText})`),
    ...sla.filter((s) => s.regression).map((s) => `SLA '${s.line}' held (${s.baseline!.measuredText}) and now fails (${s.current!.measuredText})`),
  ];
  return { name: c.name, baseline: b, current: c, figures, named, sla, regressions };
}

function notes(b: RunResult, c: RunResult): string[] {
  const out: string[] = [];
  if (b.scenario.name !== c.scenario.name) out.push(`different scenarios: ${b.scenario.name} vs ${c.scenario.name}`);
  if (b.scenario.durationMs !== c.scenario.durationMs || b.scenario.warmupMs !== c.scenario.warmupMs) {
    out.push(`different windows: warm-up ${b.scenario.warmupMs} ms + ${b.scenario.durationMs} ms vs ${c.scenario.warmupMs} ms + ${c.scenario.durationMs} ms`);
  }
  if (JSON.stringify(b.scenario.workload) !== JSON.stringify(c.scenario.workload)) out.push('different workloads');
  const machine = (r: RunResult) => `${r.environment.cpus} × ${r.environment.cpuModel}, Node ${r.environment.node}, ${r.environment.runtime}`;
  if (machine(b) !== machine(c)) out.push(`different machines: ${machine(b)} vs ${machine(c)}`);
  if (!b.complete) out.push('the baseline run is incomplete');
  if (!c.complete) out.push('the current run is incomplete');
  return out;
}

/**
 * Compares a run with a baseline: designs matched by name, every headline figure, checker count
 * and named distribution's p99 side by side with its change, and regressions flagged where a
 * latency percentile, the throughput or the error rate moved the wrong way beyond its threshold,
 * a checker count moved against the way the scenario declares better (`lost` 0 → 3), a design
 * stopped completing, or an SLA line that held now fails.
 */
export function compareResults(baseline: RunResult, current: RunResult, thresholds: CompareThresholds = DEFAULT_THRESHOLDS): Comparison {
  const byName = new Map(baseline.designs.map((d) => [d.name, d]));
  const designs = current.designs.filter((d) => byName.has(d.name)).map((d) => compareDesign(byName.get(d.name)!, d, thresholds, { baseline, current }));
  const currentNames = new Set(current.designs.map((d) => d.name));
  return {
    baseline,
    current,
    thresholds,
    designs,
    onlyInBaseline: baseline.designs.filter((d) => !currentNames.has(d.name)).map((d) => d.name),
    onlyInCurrent: current.designs.filter((d) => !byName.has(d.name)).map((d) => d.name),
    notes: notes(baseline, current),
    regressions: designs.flatMap((d) => d.regressions.map((r) => `${d.name}: ${r}`)),
  };
}
