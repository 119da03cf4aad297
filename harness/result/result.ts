/**
 * The result document (`result.json`), schema 2: the whole run as plain, versioned data. Every
 * report is a pure function of it. Latencies are integers in microseconds; times are ISO
 * strings or milliseconds since the measured window began. Older documents are brought up to
 * this schema by `upgradeResult` (upgrade-result.ts); schema 1 is frozen in result-v1.ts.
 *
 * Nothing here names a protocol: a driver records operations, named distributions, counters,
 * tallies and gauges, and its checkers add named counts; the document keeps them by name.
 */

/** Bumped on any change a reader must know about. */
export const RESULT_SCHEMA_VERSION = 2;

export interface RunResult {
  schemaVersion: typeof RESULT_SCHEMA_VERSION;
  /** The scenario as run, after CLI overrides (plain data; durations in ms). */
  scenario: ScenarioAsRun;
  environment: Environment;
  startedAt: string;
  finishedAt: string;
  /**
   * False when the run was cut short (interrupted, a design failed to start, the harness broke),
   * and in the copy written after each design while the run goes on: a run killed outright
   * (SIGKILL, a crash of the machine) leaves that copy, with every design finished before it.
   */
  complete: boolean;
  /** Overall verdict: true when every SLA line of every design held. */
  passed: boolean;
  /** One entry per design (with --repeat, its median trial, carrying the statistics over all trials). */
  designs: DesignResult[];
  /** With --repeat: every trial of every design, in the order they ran (A B A B …). */
  trials?: DesignResult[];
}

/** A figure over repeated trials: every value, the median, and a 95% confidence interval of the mean. */
export interface TrialFigure {
  values: number[];
  median: number;
  low: number;
  high: number;
}

/** How reports name the workload's operations: `request`/`requests`, `message`/`messages`, `call`/`calls`. */
export interface Wording {
  one: string;
  many: string;
}

/** A metric a design recorded beyond the core ones, as the driver or a checker declared it. */
export interface MetricInfo {
  /** What it is, for people: `time from send to consumer receipt`. */
  description: string;
  unit: SlaUnit;
  /** Which way is better, for `compare`: a move the other way is a regression. */
  better: 'lower' | 'higher' | 'neither';
}

export interface ScenarioAsRun {
  name: string;
  description: string;
  file: string;
  warmupMs: number;
  durationMs: number;
  /** Each design's target, its options and the client options handed to its adapter. */
  designs: Record<string, { target: string; options: unknown; client?: unknown }>;
  /** The workload as given (`kind` names the driver). */
  workload: unknown;
  /** The workload's kind (`http`, `rpc`, `messaging`, …). */
  workloadKind: string;
  /** How the workload's operations are called in reports. */
  wording: Wording;
  /**
   * The names this workload records besides operations (distributions, counters, tallies,
   * gauges, checker counts), with their unit: reports read them from here, not from code.
   */
  metrics: Record<string, MetricInfo & { kind: 'distribution' | 'counter' | 'tally' | 'gauge' | 'check' }>;
  sla: string[];
  /** The fault timeline as run (after --time-scale). */
  faults: unknown[];
  /** The --time-scale factor, when not 1. */
  timeScale?: number;
  /** With --repeat N: how many trials of each design ran, interleaved A B A B … */
  repeat?: number;
  /**
   * Which second an operation belongs to in `series`: `due`, the second it was due (its
   * intended send time; what the run uses), so a request sent just after a fault that fails
   * seconds later counts against that fault's second; `completed` in results written before.
   */
  secondOf?: 'due' | 'completed';
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
  /**
   * What an idle Toxiproxy proxy (no toxic) adds to a small TCP round trip on this machine,
   * measured once before the first design against an echo server of the run's own (µs): the
   * proxy's own cost, to tell apart from a fault's. Local runtime only.
   */
  toxiproxyIdleCostUs?: { p50: number; p99: number; samples: number };
  /** Milliseconds from CLI process start to the first operation of the first design. */
  startToFirstRequestMs?: number;
}

/** Where the load reaches a design: its protocol and every endpoint, as `<protocol>://host:port`. */
export interface EntryInfo {
  protocol: string;
  endpoints: string[];
}

export interface DesignResult {
  name: string;
  target: string;
  status: 'completed' | 'failed-to-start' | 'interrupted' | 'harness-error';
  /** Set when status is not 'completed', or when stopping the design's services failed after it was measured. */
  error?: string;
  /** With --repeat: which trial of this design this is (1, 2, …). */
  trial?: number;
  /**
   * With --repeat N: this entry is the design's median trial (by p99), and these are every
   * headline figure over all N trials; the run's `trials` keeps each trial whole. `passed` is
   * true only when every trial passed.
   */
  repeat?: { trials: number; passedTrials: number; figures: Record<string, TrialFigure> };
  /**
   * Set when the load generator could not keep to its schedule (send lag p99 above its bound,
   * or sends dropped): the verdict may be about the harness, not the design.
   */
  generatorBound?: { reason: string };
  /** What each service of the design cost, and the load generator's own CPU, over the window. */
  resources?: ResourceSummary;
  /** The design's entry as the load reached it (through Toxiproxy when a fault may touch the client link). */
  entry?: EntryInfo;
  /** The adapter the driver used for this design (its protocol) and the client options it was handed. */
  client?: { protocol: string; options: Record<string, unknown> };
  services: ServiceInfo[];
  /** The load as the driver delivered it. */
  load: LoadStats;
  /** Operations of the measured window. */
  totals: WindowStats;
  /** Per operation name (e.g. `GET /work?ms=5`), totals over the window. */
  byOperation: Record<string, WindowStats>;
  /** Named latency distributions besides the operation latency (`e2e`, `publish`), over the window. */
  distributions: Record<string, DistributionStats>;
  /** Named counters over the window. */
  counters: Record<string, number>;
  /** Named tallies over the window: who served what (`served_by` → backend → count). */
  tallies: Record<string, Record<string, number>>;
  /** Named gauges, sampled once a second. */
  gauges: Record<string, GaugeStats>;
  /** One row per second of the measured window. */
  series: SecondStats[];
  /** What the driver's checkers found after the drain, by count name. */
  checks: Record<string, CheckCount>;
  /** The drain after the window: how long it took and whether it finished before its deadline. */
  drain?: { ms: number; deadlineMs: number; complete: boolean };
  /** Where the append-only history of this design was kept (relative to result.json), when the driver wrote one. */
  historyFile?: string;
  /** Connections routed through a Toxiproxy proxy (those a fault may touch). */
  links: LinkInfo[];
  /** Every fault of the timeline as it was applied to this design. */
  faults: FaultRecord[];
  sla: SlaVerdict[];
  passed: boolean;
}

export interface ServiceInfo {
  name: string;
  target: string;
  program: string;
  version: string;
  /** Each named port as `<protocol>://host:port` (`http://127.0.0.1:41233`, `tcp://…` when the port speaks something else). */
  endpoints: Record<string, string>;
}

export interface LoadStats {
  model: 'open' | 'closed';
  /** Open model: the rate asked for at the start of the window (per second). */
  targetRate?: number;
  /** Connections (or channels, clients) the driver used at most. */
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

/** Operations of one window (the whole measured window, or one second). */
export interface WindowStats {
  /** Operations completed (success or error). */
  ops: number;
  ok: number;
  errors: number;
  /** Failed operations by the error kind the driver recorded (`timeout`, `http_503`, `grpc_unavailable`). */
  errorsByKind: Record<string, number>;
  /** Successful operations per second. */
  throughput: number;
  /** Of every completed operation (any outcome), in µs; zeros when there were none. */
  latencyUs: LatencyFigures;
  /** The merged HDR histogram (compressed base64), for exact re-merging. */
  histogram: string;
}

/** One named distribution over a window: how many values, their figures (µs) and the histogram. */
export interface DistributionStats {
  count: number;
  latencyUs: LatencyFigures;
  histogram: string;
}

/** A gauge over the measured window, from its once-a-second samples. */
export interface GaugeStats {
  samples: number;
  min: number;
  max: number;
  mean: number;
  last: number;
}

export interface SecondStats extends WindowStats {
  /** Seconds since the measured window began (0, 1, 2, …). */
  second: number;
  /** Per operation, only when the workload has more than one. */
  byOperation?: Record<string, WindowStats>;
  /** Named distributions that had values this second. */
  distributions?: Record<string, DistributionStats>;
  /** Named counters that moved this second. */
  counters?: Record<string, number>;
  /** Named tallies that moved this second. */
  tallies?: Record<string, Record<string, number>>;
  /** Each gauge's sample at the end of this second. */
  gauges?: Record<string, number>;
  /** Names of the faults active at any time during this second. */
  faults?: string[];
  /** Per service (and `load-generator`): CPU time used this second (µs) and resident memory at its end (bytes). */
  resources?: Record<string, { cpuUs: number; rssBytes: number }>;
  /** Sends made this second, and of them late or dropped by the generator. */
  sent?: number;
  late?: number;
  dropped?: number;
}

/** A count a checker found over the history, with the evidence. */
export interface CheckCount {
  /** The checker that produced it (`delivery`, `key-remap`). */
  checker: string;
  /** The whole-run value; null when there was nothing to judge (no keys seen, say). */
  value: number | null;
  unit: 'count' | 'fraction';
  /** Per second of the window, where meaningful (the second the thing happened in). */
  perSecond?: number[];
  /** Per fault, where the count compares around a fault (`remapped`): during and after it. */
  byFault?: Record<string, { during: number | null; after: number | null }>;
  /** Up to 10 concrete examples, as the checker describes them. */
  examples: string[];
  /** Evidence drawn as a timeline in the report (who was doing what when), where the checker keeps one. */
  timeline?: CheckTimeline;
}

/**
 * Intervals and instants a checker kept as evidence, drawn as one chart: a lane per actor (a
 * client), a bar per span and a mark per instant, coloured by kind. Times in ms into the
 * measured window. Bounded by the checker: only the stretches in `covers` are kept, and at most
 * a few thousand items (`omitted` says how many more there were).
 */
export interface CheckTimeline {
  /** The chart's heading, e.g. `Who held the lock when, around the faults`. */
  title: string;
  /** What a lane is (the y axis), e.g. `client`. */
  lane: string;
  /** Every lane, in the order drawn, those without a span included. */
  lanes: string[];
  /** Span kinds in legend order, from the expected to the worst. */
  spanKinds: string[];
  /** Mark kinds in legend order, from the expected to the worst. */
  markKinds: string[];
  spans: { lane: string; from: number; to: number; kind: string; note?: string }[];
  marks: { lane: string; t: number; kind: string; note?: string }[];
  /** The stretches of the window kept (ms), in order; nothing outside them is in spans or marks. */
  covers: { from: number; to: number }[];
  /** Spans and marks inside `covers` left out beyond the bound. */
  omitted: number;
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

/** The name faultline's own process (the load generator) has beside a design's services in `resources`. */
export const LOAD_GENERATOR = 'load-generator';

/** CPU and memory per service over the measured window, and the load generator's own CPU. */
export interface ResourceSummary {
  /** By service name, plus `load-generator` for faultline's own process. */
  byService: Record<string, { cpuUs: number; cpuUsPerOp: number | null; peakRssBytes: number }>;
  /** The design's services together (not the load generator): CPU µs per completed operation. */
  cpuUsPerOp: number | null;
  /** The design's services together: the largest sum of resident memory seen in one second (bytes). */
  peakRssBytes: number;
}

export interface FaultRecord {
  name: string;
  /** `latency`, `bandwidth`, `timeout`, `reset_peer`, `slow_close`, `slicer`, `limit_data`, `down`, `kill`, `pause`, `restart`, `crash`. */
  kind: string;
  /** The link, service or client (one of the load's own) it acts on. */
  link?: string;
  service?: string;
  client?: string;
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

/** What a fault acts on, as reports name it: its link, service or client. */
export function faultSubject(f: Pick<FaultRecord, 'link' | 'service' | 'client'>): string {
  return f.link ?? f.service ?? f.client ?? '';
}

/** What a metric's value is measured in (`bytes`: resident memory). */
export type SlaUnit = 'latency' | 'fraction' | 'per-second' | 'count' | 'bytes';

export type Comparator = '<' | '<=' | '>' | '>=' | '==' | '!=';

export interface SlaVerdict {
  /** The line as shown: `p99 < 100ms`, `during slow: e2e p99 < 250ms`. */
  line: string;
  /** Set when the line is scoped to a fault: judged before, during or after that fault's window. */
  window?: { scope: 'before' | 'during' | 'after'; fault: string; fromMs: number; toMs: number };
  pass: boolean;
  /** Measured value in the metric's base unit (µs for latency, recovery and CPU per operation, fraction, per second, count, bytes); null when there was no data (or, for recovery, never recovered). */
  measured: number | null;
  op: Comparator;
  threshold: number;
  unit: SlaUnit;
  /** The measured value for people, e.g. `87.3ms`, `0.12%`. */
  measuredText: string;
  /**
   * With --repeat: how many trials passed this line, the measured value over all trials, and
   * whether the threshold is clear of the noise (the whole 95% interval on one side of it).
   */
  trials?: { passed: number; of: number; measured: TrialFigure; clear: boolean };
}
