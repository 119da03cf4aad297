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
