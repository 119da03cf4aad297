import type { z } from 'zod';
import type { Endpoint } from '../base/endpoint.ts';
import type { CheckerDefinition } from '../checkers/checker.ts';
import { SEND_LAG, type MetricSink } from '../metrics/sink.ts';
import type { MetricInfo, ScenarioAsRun, Wording } from '../result/result.ts';

/** The tally that `share(<backend>)` in an SLA line reads: who served each operation. */
export const SHARE_TALLY = 'served_by';

/** Distributions every driver has, because the shared pacer records them (`send_lag`). */
export const CORE_DISTRIBUTIONS: Readonly<Record<string, Omit<MetricInfo, 'unit'>>> = {
  [SEND_LAG]: { description: 'open model: how late each send left after its intended time (the generator\'s own lag, not the target\'s)', better: 'lower' },
};

/**
 * The names a driver records besides operations, each with its unit and meaning: the SLA
 * registry, the reports and `compare` learn them from here. Error kinds are what an operation's
 * outcome may be besides `ok`; a pattern such as `http_5xx` covers a family.
 */
export interface Vocabulary {
  /** Error kinds, exact (`timeout`) or as a family with its matcher (`http_<status>`). */
  errorKinds: readonly ErrorKind[];
  /** Named latency distributions besides the operation latency (`e2e`, `publish`). */
  distributions?: Readonly<Record<string, Omit<MetricInfo, 'unit'>>>;
  /** Named counters. */
  counters?: Readonly<Record<string, Omit<MetricInfo, 'unit'>>>;
  /** Named tallies (who served what); `share(x)` in SLA lines reads the one named SHARE_TALLY (`served_by`). */
  tallies?: Readonly<Record<string, Omit<MetricInfo, 'unit' | 'better'>>>;
  /** Named gauges sampled each second; an SLA line judges a gauge by its largest sample. */
  gauges?: Readonly<Record<string, Omit<MetricInfo, 'unit'>>>;
}

/** One error kind a driver may record: a name, or a family (`http_5xx`) matched by a pattern. */
export interface ErrorKind {
  /** As written in SLA lines: `timeout`, `http_503`, `http_5xx`, `grpc_unavailable`. */
  name: string;
  description: string;
  /** For a family: the names an SLA line may write for it (`http_503`, `http_5xx`). Default: exactly `name`. */
  matches?: RegExp;
}

/** What an adapter is handed to drive one design. */
export interface DriverContext<C> {
  /** The design's entry as the load reaches it: its protocol and every endpoint (proxied where a fault may touch the client link). */
  entry: { protocol: string; endpoints: readonly Endpoint[] };
  /** The design's client options for this adapter (validated by its `client` schema; defaults filled). */
  client: C;
  /** Where everything is recorded. */
  sink: MetricSink;
  /** The drain's deadline (ms) once sending stopped. */
  drainMs: number;
}

/**
 * When a design's load runs, on the performance.now() clock, known once its driver is prepared
 * (connecting, declaring queues or creating topics never eats into the warm-up or the window).
 */
export interface RunWindow {
  /** The measured window opens: warm-up runs from `start()` until then, and open-model ramps start here. */
  windowStartMs: number;
  /** The window ends; no send is due after it. */
  endMs: number;
}

/** One design's load generator, created by an adapter for the design's protocol. */
export interface LoadDriver {
  readonly model: 'open' | 'closed';
  /** Connections (channels, clients) it uses at most. */
  readonly connections: number;
  /** Open model: operations per second at the start. */
  readonly targetRate?: number;
  /** Opens connections, declares queues, subscribes consumers: whatever must exist before the first send. Optional. */
  prepare?(): Promise<void>;
  /** Begins sending (warm-up first); returns at once. Sending stops by itself at the window's end. */
  start(window: RunWindow): void;
  /** Stops sending and resolves when operations in flight have finished (bounded by their timeout). */
  stop(): Promise<void>;
  /**
   * After sending stopped: lets consumers catch up until nothing more will arrive (the broker
   * has nothing left for them) or `deadlineMs` passed; resolves true when it caught up, false
   * at the deadline. Whether everything sent arrived is the checkers' question, not the
   * drain's. What arrives now counts for correctness, not for throughput. Optional: a driver
   * without consumers has nothing to drain.
   */
  drain?(deadlineMs: number): Promise<boolean>;
  /** Releases connections and clients; after it the driver records nothing more. Idempotent. */
  close(): Promise<void>;
  /** A `crash` fault on one of the clients its definition names: cut its connection without a goodbye and drop what it held. */
  crash?(client: string): Promise<void>;
  /** The end of a crash fault with `for`: a new client in the crashed one's place. */
  revive?(client: string): Promise<void>;
  /** A `freeze` fault on one of its clients: stop it where it is (SIGSTOP of its process), its connections left open. */
  freeze?(client: string): Promise<void>;
  /** The end of a freeze: the client runs on from where it stopped. */
  thaw?(client: string): Promise<void>;
}

/** How one workload kind speaks one protocol: its client options and how to make a driver. */
export interface Adapter<W, C> {
  /** Client settings that belong to a design (gRPC channels, AMQP prefetch), validated at load time. */
  client: z.ZodType<C>;
  create(workload: W, ctx: DriverContext<C>): LoadDriver;
}

/**
 * A workload kind: what its load does (the workload schema), what it is called, the names it
 * records, one adapter per protocol it can speak, and the checkers run over its history.
 * Registered once in drivers/index.ts; the core knows none of them by name.
 */
export interface DriverDefinition<W> {
  /** One line for docs and errors. */
  description: string;
  workload: z.ZodType<W>;
  wording: Wording;
  vocabulary: Vocabulary;
  /** By protocol (`http`, `grpc`, `amqp`, …). */
  // Each adapter keeps its own client-options type; the registry only checks the face.
  // eslint-disable-next-line @typescript-eslint/no-explicit-any
  adapters: Readonly<Record<string, Adapter<W, any>>>;
  checkers?: readonly CheckerDefinition[];
  /** The drain's deadline for a workload (ms). Default: no drain beyond in-flight operations. */
  drainMs?(workload: W): number;
  /** The clients a `crash` fault may name for this workload (`consumer-1`, …); none when absent. */
  clients?(workload: W): string[];
  /** Whether the driver writes a history for its checkers (default: when it has checkers). */
  keepsHistory?(workload: W): boolean;
}

/** Every name a workload records besides operations, with its unit: what result.json's `scenario.metrics` holds. */
export function metricsOf(def: Pick<DriverDefinition<unknown>, 'vocabulary' | 'checkers'>): ScenarioAsRun['metrics'] {
  const v = def.vocabulary;
  const out: ScenarioAsRun['metrics'] = {};
  for (const [name, m] of Object.entries({ ...CORE_DISTRIBUTIONS, ...v.distributions })) out[name] = { ...m, unit: 'latency', kind: 'distribution' };
  for (const [name, m] of Object.entries(v.counters ?? {})) out[name] = { ...m, unit: 'count', kind: 'counter' };
  for (const [name, m] of Object.entries(v.tallies ?? {})) out[name] = { ...m, unit: 'count', better: 'neither', kind: 'tally' };
  for (const [name, m] of Object.entries(v.gauges ?? {})) out[name] = { ...m, unit: 'count', kind: 'gauge' };
  for (const c of def.checkers ?? []) {
    for (const [name, m] of Object.entries(c.counts)) out[name] = { description: m.description, unit: m.unit, better: m.better, kind: 'check' };
  }
  return out;
}
