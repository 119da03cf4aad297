import { cpus, platform, release, totalmem, arch } from 'node:os';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { targets } from '../../targets/index.ts';
import type { TargetDefinition } from '../../targets/target.ts';
import { drivers } from '../drivers/index.ts';
import type { LoadDriver, RecorderSlot } from '../drivers/load-driver.ts';
import { LATE_THRESHOLD_MS } from '../drivers/http-driver.ts';
import { FaultlineError } from '../errors.ts';
import { Recorder } from '../metrics/recorder.ts';
import { RESULT_SCHEMA_VERSION, type DesignResult, type Environment, type RunResult, type SecondStats, type ServiceInfo } from '../result/result.ts';
import { LocalRuntime } from '../runtime/local-runtime.ts';
import type { StartedService } from '../runtime/runtime.ts';
import type { LoadedScenario } from '../scenario/load-scenario.ts';
import { evaluateSla } from '../sla/evaluate-sla.ts';
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
  runtime: 'local';
  runtimeReason: string;
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
    sla: loaded.sla.map((s) => s.source),
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

  for (const [index, name] of opts.designs.entries()) {
    callHook(opts.hooks, 'onDesignStart', name, index, opts.designs.length);
    const outcome = await runDesign(loaded, name, opts, env);
    designs.push(outcome.result);
    callHook(opts.hooks, 'onDesignEnd', outcome.result);
    if (outcome.error) throw new RunInterrupted(result(false), outcome.error);
  }
  return result(true);
}

async function runDesign(loaded: LoadedScenario, name: string, opts: RunOptions, env: Environment): Promise<{ result: DesignResult; error?: FaultlineError }> {
  const spec = loaded.scenario.designs[name]!;
  const def = targets[spec.target] as TargetDefinition<unknown>;
  const topology = def.topology(spec.options ?? {});
  const runtime = new LocalRuntime({ runId: opts.runId, logDir: join(opts.outDir, 'logs', name) });
  const services: ServiceInfo[] = [];
  const base: DesignResult = {
    name,
    target: spec.target,
    status: 'completed',
    services,
    load: { model: loaded.scenario.workload.model, connections: 0, sent: 0, dropped: 0, late: 0, lateThresholdMs: LATE_THRESHOLD_MS, maxDispatchLagMs: 0, lateResponses: 0 },
    totals: { requests: 0, ok: 0, errors: 0, errorsByKind: {}, throughput: 0, latencyUs: { min: 0, mean: 0, p50: 0, p90: 0, p99: 0, p999: 0, max: 0 }, histogram: '' },
    operations: {},
    series: [],
    servedBy: {},
    links: [],
    faults: [],
    sla: [],
    passed: false,
  };
  let driver: LoadDriver | undefined;
  let measured: Recorder | undefined;
  let error: FaultlineError | undefined;
  try {
    const started = new Map<string, StartedService>();
    for (const s of topology.services) {
      opts.signal.throwIfAborted();
      const svc = await runtime.start(s);
      started.set(s.name, svc);
      services.push({ name: svc.name, target: svc.target, program: svc.program.name, version: svc.program.version, endpoints: Object.fromEntries(s.ports.map((p) => [p, svc.url(p)])) });
    }
    callHook(opts.hooks, 'onServicesReady', name, services);
    const entry = started.get(topology.entry.service)!;

    const t0 = performance.now();
    const windowStart = t0 + opts.warmupMs;
    const endMs = windowStart + opts.durationMs;
    driver = drivers[loaded.scenario.workload.protocol].create(loaded.scenario.workload, { url: entry.url(topology.entry.port), endMs, warmupMs: opts.warmupMs });
    const slot: RecorderSlot = { recorder: new Recorder(t0) };
    env.startToFirstRequestMs ??= Math.round(performance.now());
    driver.start(slot);
    await sleepUntil(windowStart, opts.signal);
    callHook(opts.hooks, 'onWarmupEnd', name);
    measured = new Recorder(windowStart);
    slot.recorder = measured;
    const windowSeconds = Math.ceil(opts.durationMs / 1000);
    for (let s = 1; windowStart + s * 1000 < endMs; s++) {
      await sleepUntil(windowStart + s * 1000, opts.signal);
      callHook(opts.hooks, 'onSecond', name, measured.tick(performance.now()), windowSeconds);
    }
    await sleepUntil(endMs, opts.signal);
    measured.closeWindow(endMs);
    await driver.stop();
    Object.assign(base, summarizeWindow(measured, driver));
  } catch (err) {
    const interrupted = opts.signal.aborted;
    error = interrupted
      ? new FaultlineError('interrupted', `interrupted by ${String(opts.signal.reason ?? 'a signal')} during design '${name}'`)
      : err instanceof FaultlineError ? err : new FaultlineError('internal', `design '${name}' failed: ${err instanceof Error ? err.message : String(err)}`, { cause: err });
    base.status = interrupted ? 'interrupted' : error.code === 'target-start' ? 'failed-to-start' : 'interrupted';
    base.error = error.message;
    if (driver && measured) {
      measured.closeWindow(performance.now());
      await driver.stop();
      Object.assign(base, summarizeWindow(measured, driver));
    }
  } finally {
    await driver?.close();
    await runtime.stopAll();
  }
  base.sla = loaded.sla.map((expr) => evaluateSla(expr, { stats: base.totals, load: base.load }));
  base.passed = base.status === 'completed' && base.sla.every((v) => v.pass);
  return error ? { result: base, error } : { result: base };
}

function summarizeWindow(measured: Recorder, driver: LoadDriver): Pick<DesignResult, 'totals' | 'operations' | 'servedBy' | 'series' | 'load'> {
  const { totals, operations, servedBy, lateResponses } = measured.finish();
  const s = measured.sends;
  return {
    totals,
    operations,
    servedBy,
    series: [...measured.series],
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
