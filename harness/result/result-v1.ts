/**
 * Schema 1 of the result document, kept so older result.json files can be upgraded (see
 * upgrade-result.ts). Frozen: never change it. The result document (`result.json`): the whole run as plain, versioned data. Every report is
 * a pure function of it. Latencies are integers in microseconds; times are ISO strings or
 * milliseconds since the measured window began.
 */

/** Bumped on any change a reader must know about. */
export const RESULT_SCHEMA_VERSION_1 = 1;

export interface RunResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION_1;
  /** The scenario as run, after CLI overrides (plain data; durations in ms). */
  scenario: ScenarioAsRun;
  environment: Environment;
  startedAt: string;
  finishedAt: string;
  /** False when the run was cut short (interrupted, or a design failed to start). */
  complete: boolean;
  /** Overall verdict: true when every SLA line of every design held. */
  passed: boolean;
  designs: DesignResult[];
}

export interface ScenarioAsRun {
  name: string;
  description: string;
  file: string;
  warmupMs: number;
  durationMs: number;
  designs: Record<string, { target: string; options: unknown }>;
  workload: unknown;
  sla: string[];
  /** The fault timeline as run (after --time-scale). */
  faults: unknown[];
  /** The --time-scale factor, when not 1. */
  timeScale?: number;
}

export interface Environment {
  faultline: string;
  node: string;
  os: string;
  arch: string;
  cpus: number;
  cpuModel: string;
  memoryBytes: number;
  runtime: 'local' | 'docker';
  /** Why this runtime was chosen (`--runtime auto` explains itself here). */
  runtimeReason: string;
  /** The docker runtime's images: tag → repo digest when pulled from a registry, else the local image id. */
  images?: Record<string, string>;
  /** Toxiproxy's version, when the run proxied any link (the image, in the docker runtime). */
  toxiproxy?: string;
  /** Milliseconds from CLI process start to the first request of the first design. */
  startToFirstRequestMs?: number;
}

export interface DesignResult {
  name: string;
  target: string;
  status: 'completed' | 'failed-to-start' | 'interrupted';
  /** Set when status is not 'completed'. */
  error?: string;
  services: ServiceInfo[];
  /** The load as the driver delivered it. */
  load: LoadStats;
  totals: WindowStats;
  /** Per operation (e.g. `GET /work?ms=5`), totals over the window. */
  operations: Record<string, WindowStats>;
  /** One row per second of the measured window. */
  series: SecondStats[];
  /** Requests per responding process or backend (from the `x-served-by` header). */
  servedBy: Record<string, number>;
  /** Connections routed through a Toxiproxy proxy (those a fault may touch). */
  links: LinkInfo[];
  /** Every fault of the timeline as it was applied to this design. */
  faults: FaultRecord[];
  /** For workloads with request keys: how each fault moved keys between backends. */
  keys?: KeyRemap;
  sla: SlaVerdict[];
  passed: boolean;
}

export interface ServiceInfo {
  name: string;
  target: string;
  program: string;
  version: string;
  endpoints: Record<string, string>;
}

export interface LoadStats {
  model: 'open' | 'closed';
  /** Open model: the rate asked for at the start of the window (per second). */
  targetRate?: number;
  connections: number;
  /** Operations sent in the measured window. */
  sent: number;
  /** Open model: sends skipped because the in-flight cap was reached. */
  dropped: number;
  /** Open model: sends dispatched later than `lateThresholdMs` after their intended time. */
  late: number;
  lateThresholdMs: number;
  /** Open model: the largest dispatch lag seen (ms). */
  maxDispatchLagMs: number;
  /** Operations sent inside the window that completed after it closed: in latency and errors, not in throughput. */
  lateResponses: number;
}

export interface LatencyFigures {
  min: number;
  mean: number;
  p50: number;
  p90: number;
  p99: number;
  p999: number;
  max: number;
}

export interface WindowStats {
  /** Operations completed (success or error). */
  requests: number;
  ok: number;
  errors: number;
  errorsByKind: Record<string, number>;
  /** Successful operations per second. */
  throughput: number;
  /** Of responses (any status), in µs; zeros when there were none. */
  latencyUs: LatencyFigures;
  /** The merged HDR histogram (compressed base64), for exact re-merging. */
  histogram: string;
}

export interface SecondStats extends WindowStats {
  /** Seconds since the measured window began (0, 1, 2, …). */
  second: number;
  /** Per operation, only when the workload has more than one. */
  operations?: Record<string, WindowStats>;
  servedBy?: Record<string, number>;
  /** Names of the faults active at any time during this second. */
  faults?: string[];
  /** Sends made this second, and of them late or dropped by the generator. */
  sent?: number;
  late?: number;
  dropped?: number;
}

export interface KeyRemap {
  /** Distinct keys seen. */
  keys: number;
  /** Per fault: the fraction of keys served by another backend than before it, during it and after it (null: none to compare). */
  byFault: Record<string, { during: number | null; after: number | null }>;
}

export interface LinkInfo {
  /** Stable name: `client->service`, `lb->backend-1`. */
  name: string;
  from: string;
  to: string;
  /** Where the proxy listens and where it forwards. */
  listen: string;
  upstream: string;
}

export interface FaultRecord {
  name: string;
  /** `latency`, `bandwidth`, `timeout`, `reset_peer`, `slow_close`, `slicer`, `limit_data`, `down`, `kill`, `pause`, `restart`. */
  kind: string;
  /** The link or service it acts on. */
  link?: string;
  service?: string;
  /** The fault's settings as given in the scenario. */
  settings: Record<string, unknown>;
  /** Planned start and length, ms from the start of the measured window; `forMs` absent = until the end. */
  atMs: number;
  forMs?: number;
  /** When it actually took effect and was removed (ms from the window start); `removedAtMs` absent = never removed (a kill, or still active at the end). */
  appliedAtMs?: number;
  removedAtMs?: number;
  /** Set when applying or removing it failed. */
  error?: string;
}

export interface SlaVerdict {
  line: string;
  /** Set when the line is scoped to a fault: judged before, during or after that fault's window. */
  window?: { scope: 'before' | 'during' | 'after'; fault: string; fromMs: number; toMs: number };
  pass: boolean;
  /** Measured value in the metric's base unit (µs for latency and recovery, fraction, per second, count); null when there was no data (or, for recovery, never recovered). */
  measured: number | null;
  threshold: number;
  unit: 'latency' | 'fraction' | 'per-second' | 'count';
  /** The measured value for people, e.g. `87.3ms`, `0.12%`. */
  measuredText: string;
}
