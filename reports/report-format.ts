import type { RunResult } from '../harness/result/result.ts';

/** A file a report format produces, relative to the run's output folder. */
export interface ReportFile {
  /** Relative path with `/` separators, e.g. `report.html`, `charts/latency-over-time.single.svg`. */
  path: string;
  content: string;
}

/**
 * A report format: a pure function of the result document to files. `publish` is an optional
 * extra for formats that also hand their output to the environment (a CI step summary).
 */
export interface ReportFormat {
  /** What it writes, for people. */
  describe: string;
  render(result: RunResult): ReportFile[] | Promise<ReportFile[]>;
  publish?(files: readonly ReportFile[], env: Readonly<Record<string, string | undefined>>): Promise<void>;
}
