import { mkdir } from 'node:fs/promises';
import { cpus, platform, release, totalmem, arch } from 'node:os';
import { join, relative } from 'node:path';
import { endpointText } from '../base/endpoint.ts';
import { runCheckers } from '../checkers/run-checkers.ts';
import { metricsOf, type LoadDriver } from '../drivers/driver.ts';
import { LATE_THRESHOLD_MS } from '../drivers/pacer.ts';
import { FaultlineError } from '../errors.ts';
import type { Fault } from '../faults/fault-spec.ts';
import { activeBetween, FaultTimeline } from '../faults/fault-timeline.ts';
import { measureIdleCost, ToxiproxyControl, toxiproxyServerSpec } from '../faults/toxiproxy.ts';
import { ResourceSampler } from '../metrics/resource-sampler.ts';
import { MetricSink, SEND_LAG } from '../metrics/sink.ts';
import { formatLatency } from '../result/format.ts';
import { writeResultFile } from '../result/write-result.ts';
import { RESULT_SCHEMA_VERSION, type DesignResult, type Environment, type FaultRecord, type RunResult, type ScenarioAsRun, type SecondStats, type ServiceInfo } from '../result/result.ts';
import type { ImageChoice } from '../runtime/images.ts';
import { LocalRuntime } from '../runtime/local-runtime.ts';
import type { Runtime } from '../runtime/runtime.ts';
import type { LoadedScenario } from '../scenario/load-scenario.ts';
import { judge, type DesignFigures } from '../sla/judge-design.ts';
import { drainDesign, measureWindow } from './measure-window.ts';
import { summarizeTrials } from './trials.ts';
import { startTopology } from './start-topology.ts';
import { faultlineVersion } from './version.ts';

/** Hooks a reporter may implement; all optional. A throwing hook is reported, never fatal. */
export interface RunHooks {
  onDesignStart?(design: string, index: number, count: number): void;
  onServicesReady?(design: string, services: ServiceInfo[]): void;
  onWarmupEnd?(design: string): void;
  /** One measured second closed. */
  onSecond?(design: string, row: SecondStats, windowSeconds: number): void;
  onDesignEnd?(result: DesignResult): void;
}

export interface RunOptions {
  /** Designs to run, in order (default: all, in the scenario's order). */
  designs: string[];
  warmupMs: number;
  durationMs: number;
  /** Where per-service logs are kept (`<outDir>/logs/<design>/`). */
  outDir: string;
  /**
   * When set, the result so far (`complete: false`) is written here after each design, whole
   * or not at all (`writeResultFile`), so a run killed in its third design still leaves the
   * first two. The caller writes the final result.
   */
  resultFile?: string;
  runId: string;
  runtime: 'local' | 'docker';
  runtimeReason: string;
  /** The docker runtime's images (default: flags, env and pinned defaults). */
  images?: ImageChoice;
  /** The --time-scale factor the timeline was scaled by (recorded only). */
  timeScale?: number;
  /** Trials of each design (--repeat), run interleaved; default 1. */
  repeat?: number;
  /** Aborts the run (Ctrl-C, SIGTERM): services stop, and a partial result comes back. */
  signal: AbortSignal;
  hooks?: RunHooks;
}

/** Thrown by `runScenario` when the run was cut short; carries the partial result. */
export class RunInterrupted extends FaultlineError {
  readonly partial: RunResult;

  constructor(partial: RunResult, cause: FaultlineError) {
    super(cause.code, cause.message, { ...(cause.detail ? { detail: cause.detail } : {}), ...(cause.hint ? { hint: cause.hint } : {}), cause });
    this.partial = partial;
  }
}

function callHook<K extends keyof RunHooks>(hooks: RunHooks | undefined, name: K, ...args: Parameters<NonNullable<RunHooks[K]>>): void {
  try {
    (hooks?.[name] as ((...a: unknown[]) => void) | undefined)?.(...args);
  } catch (err) {
    process.stderr.write(`reporter hook ${name} failed: ${err instanceof Error ? err.message : String(err)}\n`);
  }
}

function environment(opts: RunOptions): Environment {
  const cpu = cpus();
  return {
    faultline: faultlineVersion(),
    node: process.version,
    os: `${platform()} ${release()}`,
    arch: arch(),
    cpus: cpu.length,
    cpuModel: cpu[0]?.model ?? 'unknown',
    memoryBytes: totalmem(),
    runtime: opts.runtime,
    runtimeReason: opts.runtimeReason,
  };
}

/** The scenario as run, for result.json: durations in ms, each design's client options, the workload's names. */
function scenarioAsRun(loaded: LoadedScenario, opts: RunOptions): ScenarioAsRun {
  const { scenario, driver } = loaded;
  return {
    name: scenario.name,
    description: scenario.description,
    file: loaded.file,
    warmupMs: opts.warmupMs,
    durationMs: opts.durationMs,
    designs: Object.fromEntries(opts.designs.map((d) => {
      const spec = scenario.designs[d]!;
      return [d, { target: spec.target, options: spec.options ?? {}, ...(spec.client ? { client: spec.client } : {}) }];
    })),
    workload: scenario.workload,
    workloadKind: scenario.workload.kind,
    secondOf: 'due',
    wording: driver.wording,
    metrics: metricsOf(driver),
    sla: loaded.sla.map((s) => s.display),
    faults: loaded.faults,
    ...(opts.timeScale !== undefined && opts.timeScale !== 1 ? { timeScale: opts.timeScale } : {}),
    ...(opts.repeat !== undefined && opts.repeat > 1 ? { repeat: opts.repeat } : {}),
  };
}

/**
 * Runs every chosen design of a scenario, one after the other (start, measure, drain, check,
 * judge, stop), and returns the result document. A design that breaks ends the run with the
 * designs measured so far in a partial result (`RunInterrupted`).
 */
export async function runScenario(loaded: LoadedScenario, opts: RunOptions): Promise<RunResult> {
  const startedAt = new Date().toISOString();
  const env = environment(opts);
  const repeat = opts.repeat ?? 1;
  const trials: DesignResult[] = [];
  const asRun = scenarioAsRun(loaded, opts);
  const result = (complete: boolean): RunResult => {
    const designs = repeat > 1 ? summarizeTrials(trials, opts.designs) : trials;
    return {
      schemaVersion: RESULT_SCHEMA_VERSION,
      scenario: asRun,
      environment: env,
      startedAt,
      finishedAt: new Date().toISOString(),
      complete,
      passed: complete && designs.every((d) => d.passed),
      designs,
      ...(repeat > 1 ? { trials } : {}),
    };
  };

  const shared = await startSharedToxiproxy(loaded, opts, env);
  // Trials interleave (A B A B …) so a drift of the machine touches every design alike.
  const runs = Array.from({ length: repeat }, (_, t) => opts.designs.map((name) => ({ name, trial: t + 1 }))).flat();
  try {
    for (const [index, { name, trial }] of runs.entries()) {
      callHook(opts.hooks, 'onDesignStart', repeat > 1 ? `${name} (trial ${trial}/${repeat})` : name, index, runs.length);
      const outcome = await runDesign(loaded, name, opts, env, shared?.control, repeat > 1 ? trial : undefined);
      if (repeat > 1) outcome.result.trial = trial;
      trials.push(outcome.result);
      if (opts.resultFile) await writeResultFile(opts.resultFile, result(false));
      callHook(opts.hooks, 'onDesignEnd', outcome.result);
      if (outcome.error) throw new RunInterrupted(result(false), outcome.error);
    }
  } finally {
    await shared?.runtime.stopAll();
  }
  return result(true);
}

/** The faults that act on one design. */
function faultsOf(loaded: LoadedScenario, design: string): Fault[] {
  return loaded.faults.filter((f) => !f.designs || f.designs.includes(design));
}

/** The links a fault may touch in one design: each gets a Toxiproxy proxy. */
function proxiedLinks(faults: readonly Fault[]): Set<string> {
  return new Set(faults.flatMap((f) => ('link' in f && f.link ? [f.link] : [])));
}

/** The runtime a design's services run in: its own, so stopping it stops exactly them. */
async function designRuntime(opts: RunOptions, design: string, logFolder = design): Promise<Runtime> {
  const logDir = join(opts.outDir, 'logs', logFolder);
  // The docker runtime (testcontainers and its client stack) is loaded only by runs that use it.
  return opts.runtime === 'docker'
    ? new (await import('../runtime/docker-runtime.ts')).DockerRuntime({ runId: opts.runId, design, logDir, ...(opts.images ? { images: opts.images } : {}) })
    : new LocalRuntime({ runId: opts.runId, logDir });
}

/**
 * One Toxiproxy server for the whole run, for runtimes whose proxies are shared (local
 * processes), started only when a chosen design has a fault on a link. Runtimes with a proxy
 * per design start theirs with the design.
 */
async function startSharedToxiproxy(loaded: LoadedScenario, opts: RunOptions, env: Environment): Promise<{ runtime: Runtime; control: ToxiproxyControl } | undefined> {
  if (opts.runtime !== 'local' || !opts.designs.some((d) => proxiedLinks(faultsOf(loaded, d)).size > 0)) return undefined;
  const runtime = new LocalRuntime({ runId: opts.runId, logDir: join(opts.outDir, 'logs') });
  try {
    const control = await toxiproxyIn(runtime, env);
    env.toxiproxyIdleCostUs = await measureIdleCost(control);
    return { runtime, control };
  } catch (err) {
    await runtime.stopAll();
    throw err;
  }
}

async function toxiproxyIn(runtime: Runtime, env: Environment): Promise<ToxiproxyControl> {
  const server = await runtime.start(toxiproxyServerSpec(runtime.kind));
  const control = new ToxiproxyControl(server, runtime.kind === 'docker' ? '0.0.0.0' : '127.0.0.1');
  env.toxiproxy = control.version;
  return control;
}

function emptyDesign(name: string, target: string, model: 'open' | 'closed'): DesignResult {
  return {
    name,
    target,
    status: 'completed',
    services: [],
    load: { model, connections: 0, sent: 0, dropped: 0, late: 0, lateThresholdMs: LATE_THRESHOLD_MS, maxDispatchLagMs: 0, lateResponses: 0 },
    totals: { ops: 0, ok: 0, errors: 0, errorsByKind: {}, throughput: 0, latencyUs: { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 }, histogram: '' },
    byOperation: {},
    distributions: {},
    counters: {},
    tallies: {},
    gauges: {},
    series: [],
    checks: {},
    links: [],
    faults: [],
    sla: [],
    passed: false,
  };
}

/** The error a design ended with, from what aborted it. */
function designError(err: unknown, name: string, runSignal: AbortSignal, faultFailed: AbortSignal): FaultlineError {
  if (faultFailed.aborted) return faultFailed.reason as FaultlineError;
  if (runSignal.aborted) return new FaultlineError('interrupted', `interrupted by ${String(runSignal.reason ?? 'a signal')} during design '${name}'`);
  if (err instanceof FaultlineError) return err;
  return new FaultlineError('internal', `design '${name}' failed inside faultline: ${err instanceof Error ? err.message : String(err)}`, {
    hint: 'this is a bug in faultline, not in the scenario: please report it with the output above',
    cause: err,
  });
}

function statusOf(error: FaultlineError): DesignResult['status'] {
  switch (error.code) {
    case 'target-start':
      return 'failed-to-start';
    case 'internal':
      return 'harness-error';
    default:
      return 'interrupted';
  }
}

/**
 * One design, in steps: start its topology, measure its window, drain, run its checkers,
 * stop it, judge its SLA. Whatever fails, its services stop and what was measured is kept;
 * an error while stopping is recorded beside the result, never instead of it.
 */
async function runDesign(loaded: LoadedScenario, name: string, opts: RunOptions, env: Environment, sharedControl: ToxiproxyControl | undefined, trial?: number): Promise<{ result: DesignResult; error?: FaultlineError }> {
  const { driver: kind, scenario } = loaded;
  const topology = loaded.topologies[name]!;
  const plan = loaded.plans[name]!;
  const faults = faultsOf(loaded, name);
  // Each trial keeps its own logs and history.
  const files = trial === undefined ? name : `${name}.trial-${trial}`;
  const runtime = await designRuntime(opts, name, files);
  const base = emptyDesign(name, scenario.designs[name]!.target, scenario.workload.model);
  base.client = { protocol: plan.protocol, options: plan.client };
  // A fault that fails aborts the design just like a signal does, with its own error.
  const faultFailed = new AbortController();
  const signal = AbortSignal.any([opts.signal, faultFailed.signal]);
  let driver: LoadDriver | undefined;
  let sink: MetricSink | undefined;
  let sampler: ResourceSampler | undefined;
  let timeline: FaultTimeline | undefined;
  let error: FaultlineError | undefined;
  const afterWindow = new StopProblems();
  const keepsHistory = kind.keepsHistory?.(scenario.workload) ?? (kind.checkers?.length ?? 0) > 0;
  const historyFile = keepsHistory ? join(opts.outDir, 'history', `${files}.jsonl`) : undefined;
  try {
    const proxied = proxiedLinks(faults);
    const control = proxied.size > 0 && runtime.proxyScope === 'design' ? await toxiproxyIn(runtime, env) : sharedControl;
    const up = await startTopology(topology, plan.entry, name, proxied, runtime, control, signal);
    base.services = up.services;
    base.links = up.linkInfo;
    base.entry = { protocol: up.entry.protocol, endpoints: up.entry.endpoints.map((e) => endpointText(up.entry.protocol, e)) };
    callHook(opts.hooks, 'onServicesReady', name, up.services);

    if (historyFile) await mkdir(join(opts.outDir, 'history'), { recursive: true });
    sink = new MetricSink({ windowStartMs: performance.now() + opts.warmupMs, lateThresholdMs: LATE_THRESHOLD_MS, ...(historyFile ? { historyFile } : {}) });
    const drainMs = kind.drainMs?.(scenario.workload) ?? 0;
    driver = kind.adapters[plan.protocol]!.create(scenario.workload, { entry: up.entry, client: plan.client, sink, drainMs });
    await driver.prepare?.();
    // The warm-up starts once the driver is prepared: its connections and declarations take no part of it.
    const windowStartMs = performance.now() + opts.warmupMs;
    const endMs = windowStartMs + opts.durationMs;
    sink.anchor(windowStartMs);
    timeline = new FaultTimeline(faults, { links: up.links, services: up.started, clients: driver }, windowStartMs, (err) => faultFailed.abort(err));
    base.faults = timeline.records;
    sampler = new ResourceSampler(up.started);
    env.startToFirstRequestMs ??= Math.round(performance.now());
    await measureWindow({
      driver,
      sink,
      windowStartMs,
      endMs,
      timeline,
      sampler,
      signal,
      onWarmupEnd: () => callHook(opts.hooks, 'onWarmupEnd', name),
      onSecond: (row, windowSeconds) => callHook(opts.hooks, 'onSecond', name, row, windowSeconds),
    });
    const drained = await drainDesign(driver, drainMs);
    if (drained) base.drain = drained;
    // Nothing may record into the sink once it is summarised.
    await afterWindow.attempt('closing the load driver', () => driver!.close());
    Object.assign(base, summarize(sink, driver, timeline.records));
    base.resources = sampler.summary(base.totals.ops);
    const bound = generatorBound(base);
    if (bound) base.generatorBound = bound;
    if (historyFile) base.historyFile = relative(opts.outDir, historyFile);
    // Checkers read the history: a workload that kept none (HTTP without keys) has nothing for them.
    if (historyFile) base.checks = await runCheckers(kind.checkers ?? [], historyFile, timeline.records, opts.durationMs);
  } catch (err) {
    error = designError(err, name, opts.signal, faultFailed.signal);
    base.status = statusOf(error);
    base.error = error.message;
    if (driver && sink) {
      sink.closeWindow(performance.now());
      await timeline?.stop().catch(() => {});
      await driver.stop().catch(() => {});
      await afterWindow.attempt('closing the load driver', () => driver!.close());
      Object.assign(base, summarize(sink, driver, timeline?.records ?? []));
      if (sampler) base.resources = sampler.summary(base.totals.ops);
    }
  } finally {
    sink?.destroy();
    await stopDesign(runtime, driver, timeline, sharedControl, afterWindow);
    afterWindow.noteOn(base);
    env.images = { ...env.images, ...runtime.imagesUsed() };
    if (Object.keys(env.images).length === 0) delete env.images;
  }
  // A line scoped to a fault that does not act on this design says nothing about it.
  const applies = new Set(faults.map((f) => f.name));
  const figures: DesignFigures = { ...base, windowMs: opts.durationMs };
  base.sla = loaded.sla.filter((rule) => !rule.scope || applies.has(rule.scope.fault)).map((rule) => judge(rule, figures));
  base.passed = base.status === 'completed' && base.sla.every((v) => v.pass);
  return error ? { result: base, error } : { result: base };
}

/** What failed while a design was being stopped: noted on its result, never thrown over it. */
class StopProblems {
  private readonly problems: string[] = [];

  async attempt(what: string, step: (() => Promise<void>) | undefined): Promise<void> {
    try {
      await step?.();
    } catch (err) {
      this.problems.push(`${what}: ${err instanceof Error ? err.message : String(err)}`);
    }
  }

  noteOn(base: DesignResult): void {
    if (this.problems.length > 0) base.error = [base.error, `after the window: ${this.problems.join('; ')}`].filter(Boolean).join('; ');
  }
}

/** Stops the timeline, the driver's connections and the services, each even when another failed. */
async function stopDesign(runtime: Runtime, driver: LoadDriver | undefined, timeline: FaultTimeline | undefined, sharedControl: ToxiproxyControl | undefined, problems: StopProblems): Promise<void> {
  await problems.attempt('stopping the fault timeline', timeline && (() => timeline.stop()));
  await problems.attempt('closing the load driver', driver && (() => driver.close()));
  await problems.attempt('stopping the services', () => runtime.stopAll());
  // A runtime with its own Toxiproxy stopped it with the design; the shared one is reused.
  await problems.attempt('removing the proxies', sharedControl && (() => sharedControl.removeAll()));
}

/** Send lag p99 above this (µs) means the generator could not keep to its schedule. */
export const GENERATOR_BOUND_LAG_US = 1000;

/** Why a design's verdict may be about the load generator rather than the design, if it may. */
function generatorBound(d: Pick<DesignResult, 'distributions' | 'load'>): DesignResult['generatorBound'] {
  const lag = d.distributions[SEND_LAG];
  const reasons = [
    ...(lag && lag.latencyUs.p99 > GENERATOR_BOUND_LAG_US ? [`send lag p99 ${formatLatency(lag.latencyUs.p99)} > ${formatLatency(GENERATOR_BOUND_LAG_US)}`] : []),
    ...(d.load.dropped > 0 ? [`${d.load.dropped} sends dropped at the in-flight cap`] : []),
  ];
  return reasons.length > 0 ? { reason: reasons.join(', ') } : undefined;
}

/** The window's figures from the sink, with each second's active faults and the load as delivered. */
function summarize(sink: MetricSink, driver: LoadDriver, faults: readonly FaultRecord[]): Pick<DesignResult, 'totals' | 'byOperation' | 'distributions' | 'counters' | 'tallies' | 'gauges' | 'series' | 'load'> {
  const s = sink.finish();
  const series = s.series.map((row): SecondStats => {
    const active = activeBetween(faults, row.second * 1000, (row.second + 1) * 1000);
    return active.length > 0 ? { ...row, faults: active } : row;
  });
  return {
    totals: s.totals,
    byOperation: s.byOperation,
    distributions: s.distributions,
    counters: s.counters,
    tallies: s.tallies,
    gauges: s.gauges,
    series,
    load: {
      model: driver.model,
      ...(driver.targetRate !== undefined ? { targetRate: driver.targetRate } : {}),
      connections: driver.connections,
      sent: s.sends.sent,
      dropped: s.sends.dropped,
      late: s.sends.late,
      lateThresholdMs: LATE_THRESHOLD_MS,
      maxDispatchLagMs: s.sends.maxLagMs,
      lateResponses: s.lateResponses,
    },
  };
}
