import type { HistoryRecord } from '../metrics/sink.ts';
import type { CheckCount, FaultRecord, MetricInfo } from '../result/result.ts';

/** What a checker reads: the design's history after the drain, and the window it was measured in. */
export interface CheckInput {
  /** Every history record, in the order written (warm-up included, `t` < 0). */
  history(): AsyncIterable<HistoryRecord>;
  /** The fault timeline as applied to this design. */
  faults: readonly FaultRecord[];
  /** Length of the measured window (ms). */
  windowMs: number;
}

/** A count a checker yields, as declared up front (the SLA registry knows it before the run). */
export interface CheckDeclaration extends Omit<MetricInfo, 'unit'> {
  unit: CheckCount['unit'];
  /**
   * `fault`: the count compares around a fault and is judged only in a line scoped `during` or
   * `after` one (`remapped`). Default `any`: whole run, and per second where it has `perSecond`.
   */
  scope?: 'any' | 'fault';
}

/** An analysis over what happened, run after the window and the drain. */
export interface CheckerDefinition {
  /** `delivery`, `key-remap`, `fencing`, `id-uniqueness`. */
  name: string;
  /** The counts it yields, by name; names are unique across a workload's checkers and metrics. */
  counts: Readonly<Record<string, CheckDeclaration>>;
  /** Reads the history and returns every declared count (value, per second where meaningful, up to 10 examples). */
  check(input: CheckInput): Promise<Record<string, Omit<CheckCount, 'checker' | 'unit'>>>;
}

/** At most this many examples per count. */
export const MAX_EXAMPLES = 10;

/** A count as a checker returns it. */
export type Count = Omit<CheckCount, 'checker' | 'unit'>;

/** A count being gathered: the total, per second of the window, and the earliest examples with their times. */
export class Tally {
  value = 0;
  readonly perSecond: number[];
  private readonly examples: { t: number; text: string }[] = [];

  constructor(seconds: number) {
    this.perSecond = new Array<number>(seconds).fill(0);
  }

  /** One more at `t` (ms since the window began): every one counts in `value`; seconds ≥ 0 of the window per second. */
  add(t: number, example: () => string): void {
    this.value++;
    const s = Math.floor(t / 1000);
    if (s >= 0 && s < this.perSecond.length) this.perSecond[s]!++;
    if (this.examples.length < MAX_EXAMPLES) this.examples.push({ t, text: example() });
  }

  result(): Count {
    return { value: this.value, perSecond: this.perSecond, examples: this.examples.sort((a, b) => a.t - b.t).map((e) => e.text) };
  }
}

/** A time in the window (ms) as examples print it: `12.34s`. */
export function at(t: number): string {
  return `${(t / 1000).toFixed(2)}s`;
}
