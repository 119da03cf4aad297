import { spawn, type ChildProcess } from 'node:child_process';
import { closeSync, fstatSync, openSync, rmSync } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { signalGroup } from './process-group.ts';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultlineError } from '../errors.ts';
import { fakeClockEnv, fakeClockLibrary, fakeClockLoadedIn, notLoadedError, offsetFileIn, untilOffsetRead, writeOffsetFile } from './fake-clock.ts';
import { groupUsage, type Usage } from './proc-usage.ts';
import { RUN_ID_ENV, SERVICE_ENV } from './run-registry.ts';
import type { Endpoint, Runtime, StartedService, StartOptions } from './runtime.ts';
import { portNumber, type ServiceSpec } from './service-spec.ts';
import { releaseGroup, watchGroup } from './watchdog.ts';

const HOST = '127.0.0.1';
const STOP_GRACE_MS = 5_000;

/** Every live local service of this process, so an unexpected exit still kills them. */
const live = new Set<LocalService>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // Last resort for exits that skip the orderly stop (an uncaught error, process.exit in a
  // signal handler): 'exit' handlers must be synchronous, so kill groups and remove dirs here.
  process.on('exit', () => {
    for (const s of live) s.killNow();
  });
}

/** Asks the kernel for a free loopback port. */
export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', reject);
    srv.listen(0, HOST, () => {
      const addr = srv.address();
      srv.close(() => (typeof addr === 'object' && addr ? resolve(addr.port) : reject(new Error('no port'))));
    });
  });
}

/** Refuses a fixed port something already listens on: the readiness check would find that instead. */
async function refuseBusyPort(spec: ServiceSpec, name: string, port: number): Promise<void> {
  const busy = await new Promise<string | undefined>((resolve) => {
    const srv = createServer();
    srv.unref();
    srv.once('error', (err: NodeJS.ErrnoException) => resolve(err.code ?? err.message));
    srv.listen(port, HOST, () => srv.close(() => resolve(undefined)));
  });
  if (busy !== undefined) {
    throw new FaultlineError('target-start', `service '${spec.name}' (${spec.target}) must listen on port ${port} (${name}), which is not free (${busy})`, {
      hint: 'stop what listens there, or let faultline choose a free port and tell the service in an environment variable',
    });
  }
}

/** Waits until an external service answers at its addresses; it is never started or stopped here. */
async function startExternal(spec: ServiceSpec, at: Readonly<Record<string, Endpoint>>): Promise<StartedService> {
  const service = new ExternalService(spec, at);
  const ac = new AbortController();
  const timer = setTimeout(() => ac.abort(new Error('timeout')), spec.ready.timeoutMs);
  try {
    await spec.ready.waitUntilReady({ endpoint: (p) => service.endpoint(p), log: async () => '', signal: ac.signal });
    service.program = { name: spec.program.name, version: await spec.program.version() };
  } catch (err) {
    const ep = service.endpoint();
    const at = `${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`;
    throw new FaultlineError('target-start', `service '${spec.name}' (${spec.target}) does not answer at ${at}: nothing passed ${spec.ready.describe()} within ${spec.ready.timeoutMs} ms`, {
      hint: 'faultline does not start an external service: start it before the run, or correct its url',
      cause: err,
    });
  } finally {
    clearTimeout(timer);
  }
  return service;
}

/** A service faultline did not start: it has an address and nothing a fault or a stop could act on. */
class ExternalService implements StartedService {
  readonly name: string;
  readonly target: string;
  program = { name: '', version: '' };
  private readonly spec: ServiceSpec;
  private readonly at: Readonly<Record<string, Endpoint>>;

  constructor(spec: ServiceSpec, at: Readonly<Record<string, Endpoint>>) {
    this.spec = spec;
    this.at = at;
    this.name = spec.name;
    this.target = spec.target;
  }

  endpoint(port?: string): Endpoint {
    const name = port ?? this.spec.ports[0]!;
    const ep = this.at[name];
    if (!ep) throw new FaultlineError('internal', `external service '${this.name}' has no address for port '${name}'; its ports: ${Object.keys(this.at).join(', ')}`);
    return ep;
  }

  peerEndpoint(port?: string): Endpoint {
    return this.endpoint(port);
  }

  url(port?: string): string {
    const ep = this.endpoint(port);
    return `http://${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`;
  }

  private refuse(what: string): never {
    throw new FaultlineError('fault', `service '${this.name}' (${this.target}) was not started by faultline, so it cannot ${what} it`, { hint: `put faults on its link instead (client->${this.name})` });
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.refuse(`send ${signal} to`);
  }

  async pause(): Promise<void> {
    this.refuse('pause');
  }

  async resume(): Promise<void> {
    this.refuse('resume');
  }

  async restart(): Promise<void> {
    this.refuse('restart');
  }

  async stop(): Promise<void> {}

  async logTail(): Promise<string> {
    return '';
  }

  async usage(): Promise<Usage | undefined> {
    return undefined;
  }

  async [Symbol.asyncDispose](): Promise<void> {}
}


function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
}

export interface LocalRuntimeOptions {
  /** Labels every process (env `FAULTLINE_RUN_ID`) and names temp dirs, so leftovers can be found. */
  runId: string;
  /** Where each service's log is copied when it stops (`<logDir>/<service>.log`); default: not kept. */
  logDir?: string;
}

/**
 * Runs services as child processes on 127.0.0.1: each in its own process group (so a kill or
 * pause reaches its workers too), with its own temp dir, config files and log file.
 */
export class LocalRuntime implements Runtime {
  readonly kind = 'local' as const;
  readonly proxyScope = 'run' as const;
  private readonly services: LocalService[] = [];
  private readonly opts: LocalRuntimeOptions;

  constructor(opts: LocalRuntimeOptions) {
    this.opts = opts;
    installExitHook();
  }

  async start(spec: ServiceSpec, opts: StartOptions = {}): Promise<StartedService> {
    if (spec.external) return startExternal(spec, spec.external);
    const ports: Record<string, number> = {};
    for (const p of spec.ports) ports[p] = spec.fixedPorts?.[p] ?? (await freePort());
    for (const [p, port] of Object.entries(spec.fixedPorts ?? {})) await refuseBusyPort(spec, p, port);
    const advertised = Object.fromEntries(spec.ports.map((p) => [p, opts.advertised?.[p] ?? { host: HOST, port: ports[p]! }]));
    const clockLibrary = spec.fakeClock ? fakeClockLibrary(spec.name) : undefined;
    const dir = await mkdtemp(join(tmpdir(), `faultline-${this.opts.runId}-${spec.name}-`));
    const service = new LocalService(spec, dir, ports, { links: opts.links ?? {}, advertised }, this.opts, clockLibrary);
    this.services.push(service);
    try {
      await service.launch();
    } catch (err) {
      await service.stop();
      throw err;
    }
    return service;
  }

  async stopAll(): Promise<void> {
    // Reverse start order: entry points (load balancers) go before what they front.
    for (const s of [...this.services].reverse()) await s.stop();
  }

  imagesUsed(): Record<string, string> {
    return {};
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopAll();
  }
}

class LocalService implements StartedService {
  readonly name: string;
  readonly target: string;
  program = { name: '', version: '' };
  private child: ChildProcess | undefined;
  private exited: Promise<void> = Promise.resolve();
  private exitInfo: string | undefined;
  private stopped = false;
  private readonly logFile: string;
  private readonly spec: ServiceSpec;
  private readonly dir: string;
  private readonly ports: Record<string, number>;
  private readonly given: { links: Record<string, Endpoint>; advertised: Record<string, Endpoint> };
  private readonly opts: LocalRuntimeOptions;
  /** libfaketime's path, for a spec with `fakeClock`. */
  private readonly clockLibrary: string | undefined;
  /** The offset its clock has now, written to the offset file at every start. */
  private clockOffsetMs = 0;
  readonly setClockOffset?: (ms: number) => Promise<void>;

  constructor(spec: ServiceSpec, dir: string, ports: Record<string, number>, given: { links: Record<string, Endpoint>; advertised: Record<string, Endpoint> }, opts: LocalRuntimeOptions, clockLibrary?: string) {
    this.spec = spec;
    this.dir = dir;
    this.ports = ports;
    this.given = given;
    this.opts = opts;
    this.clockLibrary = clockLibrary;
    this.name = spec.name;
    this.target = spec.target;
    this.logFile = join(dir, `${spec.name}.log`);
    if (clockLibrary !== undefined) this.setClockOffset = (ms) => this.moveClock(ms);
  }

  endpoint(port?: string): Endpoint {
    return { host: HOST, port: portNumber(this.spec, this.ports, port) };
  }

  peerEndpoint(port?: string): Endpoint {
    return this.endpoint(port);
  }

  url(port?: string): string {
    const ep = this.endpoint(port);
    return `http://${ep.host}:${ep.port}`;
  }

  /** Spawns the process and waits for readiness; throws a target-start error with the log tail. */
  async launch(): Promise<void> {
    const proc = this.spec.local({ dir: this.dir, host: HOST, ports: this.ports, ...this.given });
    for (const [rel, content] of Object.entries(proc.files ?? {})) {
      const file = join(this.dir, rel);
      await mkdir(dirname(file), { recursive: true });
      await writeFile(file, content);
    }
    // The offset it had before a restart: the clock of the machine it runs on stays wrong.
    if (this.clockLibrary !== undefined) await writeOffsetFile(offsetFileIn(this.dir), this.clockOffsetMs);
    const clockEnv = this.clockLibrary === undefined ? {} : fakeClockEnv(this.clockLibrary, offsetFileIn(this.dir), proc.env?.LD_PRELOAD ?? process.env.LD_PRELOAD);
    const fd = openSync(this.logFile, 'a');
    // Readiness reads only what this start logs: after a restart the last start's lines are still there.
    const logFrom = fstatSync(fd).size;
    let child: ChildProcess;
    try {
      child = spawn(proc.command, proc.args, {
        cwd: proc.cwd ?? this.dir,
        env: { ...process.env, ...proc.env, ...clockEnv, [RUN_ID_ENV]: this.opts.runId, [SERVICE_ENV]: this.name },
        detached: true,
        stdio: ['ignore', fd, fd],
      });
    } finally {
      closeSync(fd);
    }
    this.child = child;
    // The run's watchdog, if any, kills the group should faultline die before it stops it.
    if (child.pid !== undefined) watchGroup(child.pid);
    this.exitInfo = undefined;
    live.add(this);
    const spawnError = new Promise<never>((_, reject) => child.once('error', reject));
    spawnError.catch(() => {});
    this.exited = new Promise((resolve) => {
      child.once('exit', (code, signal) => {
        this.exitInfo = signal ? `killed by ${signal}` : `exited with code ${code}`;
        resolve();
      });
      child.once('error', () => resolve());
    });

    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('timeout')), this.spec.ready.timeoutMs);
    void this.exited.then(() => ac.abort(new Error('exited')));
    try {
      await Promise.race([
        this.spec.ready.waitUntilReady({ endpoint: (p) => this.endpoint(p), log: () => this.readLog(logFrom), signal: ac.signal }),
        spawnError,
      ]);
      this.program = { name: this.spec.program.name, version: await this.spec.program.version() };
    } catch (err) {
      const why = (err as NodeJS.ErrnoException).code === 'ENOENT'
        ? `program '${proc.command}' was not found`
        : this.exitInfo
          ? `it ${this.exitInfo} before it was ready`
          : ac.signal.aborted
            ? `it was not ready after ${this.spec.ready.timeoutMs} ms (waiting for ${this.spec.ready.describe()})`
            : String(err);
      const log = tail(await this.readLog(), 20);
      throw new FaultlineError('target-start', `service '${this.name}' (${this.target}) failed to start: ${why}`, {
        detail: log ? `last lines of its log (${this.logFile}):\n${log}` : 'its log is empty',
        hint: (err as NodeJS.ErrnoException).code === 'ENOENT' ? "run 'npm run setup' or 'faultline doctor' to see what is missing" : 'read the log lines above; run the command by hand to see more',
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The log, from a byte offset (default its start). */
  private async readLog(from = 0): Promise<string> {
    try {
      return (await readFile(this.logFile)).subarray(from).toString('utf8');
    } catch {
      return '';
    }
  }

  private get running(): boolean {
    return this.child?.pid !== undefined && this.exitInfo === undefined && this.child.exitCode === null && this.child.signalCode === null;
  }

  /** Signals the running service's group; a service that is not running is an error a fault must report. */
  private signalRunning(signal: NodeJS.Signals): void {
    if (!this.running || !signalGroup(this.child!.pid!, signal)) {
      throw new FaultlineError('fault', `service '${this.name}' is not running (${this.exitInfo ?? 'it was stopped'}), so ${signal} cannot reach it`);
    }
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    this.signalRunning(signal);
    if (signal === 'SIGKILL') await this.exited;
  }

  async pause(): Promise<void> {
    this.signalRunning('SIGSTOP');
  }

  async resume(): Promise<void> {
    this.signalRunning('SIGCONT');
  }

  async restart(): Promise<void> {
    await this.terminate();
    await this.launch();
  }

  /**
   * Rewrites the offset file in the service's dir. While the service is not running (killed,
   * not yet started again) the offset is kept for its next start and nothing waits.
   */
  private async moveClock(ms: number): Promise<void> {
    if (this.stopped) throw new FaultlineError('fault', `service '${this.name}' was stopped, so its clock cannot be moved`);
    const pid = this.running ? this.child!.pid! : undefined;
    if (pid !== undefined && (await fakeClockLoadedIn(pid)) === false) throw notLoadedError(this.name, this.target, pid);
    await writeOffsetFile(offsetFileIn(this.dir), ms);
    this.clockOffsetMs = ms;
    if (pid !== undefined) await untilOffsetRead(Date.now());
  }

  /** Stops the process group: graceful signal, then SIGKILL after the grace period. */
  private async terminate(): Promise<void> {
    const pid = this.child?.pid;
    if (pid === undefined) return;
    if (this.running) {
      signalGroup(pid, this.spec.stopSignal ?? 'SIGTERM');
      // A paused group holds the signal until it runs again.
      signalGroup(pid, 'SIGCONT');
      const graceful = await Promise.race([this.exited.then(() => true), sleep(STOP_GRACE_MS, false, { ref: false })]);
      if (!graceful) signalGroup(pid, 'SIGKILL');
      await this.exited;
    }
    // Workers of the group may outlive their leader; the group goes with it.
    signalGroup(pid, 'SIGKILL');
    releaseGroup(pid);
    live.delete(this);
  }

  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    await this.terminate();
    if (this.opts.logDir) {
      await mkdir(this.opts.logDir, { recursive: true });
      await copyFile(this.logFile, join(this.opts.logDir, `${this.name}.log`)).catch(() => {});
    }
    rmSync(this.dir, { recursive: true, force: true });
  }

  /** Synchronous kill and removal, for the process 'exit' hook only. */
  killNow(): void {
    if (this.child?.pid !== undefined) signalGroup(this.child.pid, 'SIGKILL');
    rmSync(this.dir, { recursive: true, force: true });
  }

  async logTail(lines = 20): Promise<string> {
    return tail(await this.readLog(), lines);
  }

  /** Every process of its group from /proc: a cluster primary's workers, nginx's workers. */
  async usage(): Promise<Usage | undefined> {
    if (!this.running) return undefined;
    return groupUsage(this.child!.pid!);
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
