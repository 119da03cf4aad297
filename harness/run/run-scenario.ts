import { cpus, platform, release, totalmem, arch } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { drivers } from '../drivers/index.ts';
import type { LoadDriver, RecorderSlot } from '../drivers/load-driver.ts';
import { LATE_THRESHOLD_MS } from '../drivers/http-driver.ts';
import { FaultlineError } from '../errors.ts';
import { Recorder } from '../metrics/recorder.ts';
import { RESULT_SCHEMA_VERSION, type DesignResult, type Environment, type FaultRecord, type LinkInfo, type RunResult, type SecondStats, type ServiceInfo } from '../result/result.ts';
import { LocalRuntime } from '../runtime/local-runtime.ts';
import { DockerRuntime } from '../runtime/docker-runtime.ts';
import type { ImageChoice } from '../runtime/images.ts';
import type { Endpoint, Runtime, StartedService } from '../runtime/runtime.ts';
import { clientLinkName, type Topology } from '../runtime/service-spec.ts';
import type { LoadedScenario } from '../scenario/load-scenario.ts';
import { judge } from '../sla/judge-design.ts';
import { keyRemap } from '../sla/key-remap.ts';
import type { Fault } from '../faults/fault-spec.ts';
import { activeBetween, FaultTimeline } from '../faults/fault-timeline.ts';
import { ToxiproxyControl, toxiproxyServerSpec, type ProxiedLink } from '../faults/toxiproxy.ts';
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
  runId: string;
  runtime: 'local' | 'docker';
  runtimeReason: string;
  /** The docker runtime's images (default: flags, env and pinned defaults). */
  images?: ImageChoice;
  /** The --time-scale factor the timeline was scaled by (recorded only). */
  timeScale?: number;
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

async function sleepUntil(ms: number, signal: AbortSignal): Promise<void> {
  const wait = ms - performance.now();
  if (wait > 0) await sleep(wait, undefined, { signal });
  signal.throwIfAborted();
}

/**
 * Runs every chosen design of a scenario, one after the other: start its services, warm up,
 * drive the measured window, stop everything, judge the SLA. Returns the result document.
 */
export async function runScenario(loaded: LoadedScenario, opts: RunOptions): Promise<RunResult> {
  const { scenario } = loaded;
  const startedAt = new Date().toISOString();
  const env = environment(opts);
  const designs: DesignResult[] = [];
  const asRun: RunResult['scenario'] = {
    name: scenario.name,
    description: scenario.description,
    file: loaded.file,
    warmupMs: opts.warmupMs,
    durationMs: opts.durationMs,
    designs: Object.fromEntries(opts.designs.map((d) => [d, { target: scenario.designs[d]!.target, options: scenario.designs[d]!.options ?? {} }])),
    workload: scenario.workload,
    sla: loaded.sla.map((s) => s.display),
    faults: loaded.faults,
    ...(opts.timeScale !== undefined && opts.timeScale !== 1 ? { timeScale: opts.timeScale } : {}),
  };
  const result = (complete: boolean): RunResult => ({
    schemaVersion: RESULT_SCHEMA_VERSION,
    scenario: asRun,
    environment: env,
    startedAt,
    finishedAt: new Date().toISOString(),
    complete,
    passed: complete && designs.every((d) => d.passed),
    designs,
  });

  const proxy = await startToxiproxy(loaded, opts, env);
  try {
    for (const [index, name] of opts.designs.entries()) {
      callHook(opts.hooks, 'onDesignStart', name, index, opts.designs.length);
      const outcome = await runDesign(loaded, name, opts, env, proxy?.control);
      designs.push(outcome.result);
      callHook(opts.hooks, 'onDesignEnd', outcome.result);
      if (outcome.error) throw new RunInterrupted(result(false), outcome.error);
    }
  } finally {
    await proxy?.runtime.stopAll();
  }
  return result(true);
}

/** The faults that act on one design. */
function faultsOf(loaded: LoadedScenario, design: string): Fault[] {
  return loaded.faults.filter((f) => !f.designs || f.designs.includes(design));
}

/**
 * One local Toxiproxy server for the run, started only when a chosen design has a fault on a
 * link. The docker runtime starts one per design instead, on that design's network.
 */
async function startToxiproxy(loaded: LoadedScenario, opts: RunOptions, env: Environment): Promise<{ runtime: LocalRuntime; control: ToxiproxyControl } | undefined> {
  if (opts.runtime !== 'local' || !opts.designs.some((d) => faultsOf(loaded, d).some((f) => 'link' in f))) return undefined;
  const runtime = new LocalRuntime({ runId: opts.runId, logDir: join(opts.outDir, 'logs') });
  try {
    return { runtime, control: await toxiproxyIn(runtime, env) };
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

/** The runtime a design's services run in: its own, so stopping it stops exactly them. */
function designRuntime(opts: RunOptions, design: string): LocalRuntime | DockerRuntime {
  const logDir = join(opts.outDir, 'logs', design);
  return opts.runtime === 'docker'
    ? new DockerRuntime({ runId: opts.runId, design, logDir, ...(opts.images ? { images: opts.images } : {}) })
    : new LocalRuntime({ runId: opts.runId, logDir });
}

/**
 * Starts a design's services in order. A link a fault may touch gets a Toxiproxy proxy in
 * front of the service it leads to, and the service at its other end is given the proxy's
 * address instead; so is the load, for the client link.
 */
async function startTopology(topology: Topology, design: string, proxied: ReadonlySet<string>, runtime: Runtime, control: ToxiproxyControl | undefined, signal: AbortSignal) {
  const started = new Map<string, StartedService>();
  const links = new Map<string, ProxiedLink>();
  const services: ServiceInfo[] = [];
  const route = async (link: string, upstream: Endpoint): Promise<Endpoint> => {
    if (!proxied.has(link)) return upstream;
    const p = await control!.link(`${design}/${link}`.replace(/[^A-Za-z0-9_.-]/g, '_'), link, upstream);
    links.set(link, p);
    return p.listen;
  };
  for (const spec of topology.services) {
    signal.throwIfAborted();
    const outgoing: Record<string, Endpoint> = {};
    for (const l of (topology.links ?? []).filter((x) => x.from === spec.name)) {
      const to = started.get(l.to);
      if (!to) throw new FaultlineError('internal', `in design '${design}', service '${spec.name}' starts before '${l.to}', which its link '${l.name}' leads to`);
      outgoing[l.name] = await route(l.name, to.peerEndpoint(l.port));
    }
    const svc = await runtime.start(spec, outgoing);
    started.set(spec.name, svc);
    services.push({ name: svc.name, target: svc.target, program: svc.program.name, version: svc.program.version, endpoints: Object.fromEntries(spec.ports.map((p) => [p, svc.url(p)])) });
  }
  const entry = started.get(topology.entry.service)!;
  // The load reaches the entry directly (its bridge address in docker), or through its proxy.
  const client = proxied.has(clientLinkName(topology))
    ? await route(clientLinkName(topology), entry.peerEndpoint(topology.entry.port))
    : entry.endpoint(topology.entry.port);
  const linkInfo: LinkInfo[] = [...links.values()].map((l) => {
    const spec = topology.links?.find((x) => x.name === l.name);
    return { name: l.name, from: spec?.from ?? 'client', to: spec?.to ?? topology.entry.service, listen: `${l.listen.host}:${l.listen.port}`, upstream: `${l.upstream.host}:${l.upstream.port}` };
  });
  return { started, links, services, linkInfo, entryUrl: `http://${client.host}:${client.port}` };
}

function emptyDesign(name: string, target: string, model: 'open' | 'closed'): DesignResult {
  return {
    name,
    target,
    status: 'completed',
    services: [],
    load: { model, connections: 0, sent: 0, dropped: 0, late: 0, lateThresholdMs: LATE_THRESHOLD_MS, maxDispatchLagMs: 0, lateResponses: 0 },
    totals: { requests: 0, ok: 0, errors: 0, errorsByKind: {}, throughput: 0, latencyUs: { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 }, histogram: '' },
    operations: {},
    series: [],
    servedBy: {},
    links: [],
    faults: [],
    sla: [],
    passed: false,
  };
}

async function runDesign(loaded: LoadedScenario, name: string, opts: RunOptions, env: Environment, runControl: ToxiproxyControl | undefined): Promise<{ result: DesignResult; error?: FaultlineError }> {
  const topology = loaded.topologies[name]!;
  const faults = faultsOf(loaded, name);
  const runtime = designRuntime(opts, name);
  let control = runControl;
  const base = emptyDesign(name, loaded.scenario.designs[name]!.target, loaded.scenario.workload.model);
  // A fault that fails aborts the design just like a signal does, with its own error.
  const faultFailed = new AbortController();
  const signal = AbortSignal.any([opts.signal, faultFailed.signal]);
  let driver: LoadDriver | undefined;
  let measured: Recorder | undefined;
  let timeline: FaultTimeline | undefined;
  let error: FaultlineError | undefined;
  try {
    const proxied = new Set(faults.flatMap((f) => ('link' in f && f.link ? [f.link] : [])));
    if (runtime.kind === 'docker' && proxied.size > 0) control = await toxiproxyIn(runtime, env);
    const up = await startTopology(topology, name, proxied, runtime, control, signal);
    base.services = up.services;
    base.links = up.linkInfo;
    callHook(opts.hooks, 'onServicesReady', name, up.services);

    const t0 = performance.now();
    const windowStart = t0 + opts.warmupMs;
    const endMs = windowStart + opts.durationMs;
    driver = drivers[loaded.scenario.workload.protocol].create(loaded.scenario.workload, { url: up.entryUrl, endMs, warmupMs: opts.warmupMs });
    const slot: RecorderSlot = { recorder: new Recorder(t0) };
    env.startToFirstRequestMs ??= Math.round(performance.now());
    driver.start(slot);
    await sleepUntil(windowStart, signal);
    callHook(opts.hooks, 'onWarmupEnd', name);
    measured = new Recorder(windowStart);
    slot.recorder = measured;
    timeline = new FaultTimeline(faults, { links: up.links, services: up.started }, windowStart, (err) => faultFailed.abort(err));
    base.faults = timeline.records;
    timeline.start();
    const windowSeconds = Math.ceil(opts.durationMs / 1000);
    for (let s = 1; windowStart + s * 1000 < endMs; s++) {
      await sleepUntil(windowStart + s * 1000, signal);
      const row = measured.tick(performance.now());
      const active = timeline.activeBetween((s - 1) * 1000, s * 1000);
      if (active.length > 0) row.faults = active;
      callHook(opts.hooks, 'onSecond', name, row, windowSeconds);
    }
    await sleepUntil(endMs, signal);
    await timeline.stop();
    measured.closeWindow(endMs);
    await driver.stop();
    Object.assign(base, summarizeWindow(measured, driver, timeline.records, opts.durationMs));
  } catch (err) {
    error = faultFailed.signal.aborted
      ? (faultFailed.signal.reason as FaultlineError)
      : opts.signal.aborted
        ? new FaultlineError('interrupted', `interrupted by ${String(opts.signal.reason ?? 'a signal')} during design '${name}'`)
        : err instanceof FaultlineError ? err : new FaultlineError('internal', `design '${name}' failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    base.status = error.code === 'target-start' ? 'failed-to-start' : 'interrupted';
    base.error = error.message;
    if (driver && measured) {
      measured.closeWindow(performance.now());
      await timeline?.stop();
      await driver.stop();
      Object.assign(base, summarizeWindow(measured, driver, timeline?.records ?? [], opts.durationMs));
    }
  } finally {
    await timeline?.stop();
    await driver?.close();
    await runtime.stopAll();
    // The docker runtime's own Toxiproxy went with its design; the run's one is reused.
    await runControl?.removeAll();
    if (runtime instanceof DockerRuntime) recordImages(env, runtime);
  }
  const figures = { totals: base.totals, load: base.load, series: base.series, faults: base.faults, windowMs: opts.durationMs, servedBy: base.servedBy, keys: base.keys };
  // A line scoped to a fault that does not act on this design says nothing about it.
  const applies = new Set(faults.map((f) => f.name));
  base.sla = loaded.sla.filter((rule) => !rule.scope || applies.has(rule.scope.fault)).map((rule) => judge(rule, figures));
  base.passed = base.status === 'completed' && base.sla.every((v) => v.pass);
  return error ? { result: base, error } : { result: base };
}

function recordImages(env: Environment, runtime: DockerRuntime): void {
  env.images = { ...env.images, ...Object.fromEntries(runtime.imagesUsed) };
}

function summarizeWindow(measured: Recorder, driver: LoadDriver, faults: readonly FaultRecord[], windowMs: number): Pick<DesignResult, 'totals' | 'operations' | 'servedBy' | 'series' | 'load' | 'keys'> {
  const { totals, operations, servedBy, lateResponses } = measured.finish();
  const keys = keyRemap(measured.keySeconds, faults, windowMs);
  const s = measured.sends;
  const series = measured.series.map((row) => {
    const active = activeBetween(faults, row.second * 1000, (row.second + 1) * 1000);
    return active.length > 0 ? { ...row, faults: active } : row;
  });
  return {
    ...(keys ? { keys } : {}),
    totals,
    operations,
    servedBy,
    series,
    load: {
      model: driver.model,
      ...(driver.targetRate !== undefined ? { targetRate: driver.targetRate } : {}),
      connections: driver.connections,
      sent: s.sent,
      dropped: s.dropped,
      late: s.late,
      lateThresholdMs: LATE_THRESHOLD_MS,
      maxDispatchLagMs: Math.round(s.maxLagMs * 10) / 10,
      lateResponses,
    },
  };
}
