import { spawnSync } from 'node:child_process';
import { createWriteStream, rmSync, type WriteStream } from 'node:fs';
import { copyFile, mkdir, mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join, posix } from 'node:path';
import { GenericContainer, getContainerRuntimeClient, ImageName, type ContainerRuntimeClient, type StartedTestContainer } from 'testcontainers';
import { chooseImages, type ImageChoice } from './images.ts';
import { FaultlineError } from '../errors.ts';
import { FAKE_CLOCK_FILE, FAKE_CLOCK_LIBRARY, fakeClockEnv, fakeClockLibrary, fakeClockLoadedIn, notLoadedError, offsetFileText, untilOffsetRead } from './fake-clock.ts';
import { cgroupPaths, cgroupUsage, treeUsage, type CgroupPaths, type Usage } from './proc-usage.ts';
import type { Endpoint, Runtime, StartedService, StartOptions } from './runtime.ts';
import { portNumber, type ContainerProcess, type ServiceSpec } from './service-spec.ts';
import { DOCKER_RUN_LABEL } from './run-registry.ts';

/** Every container and network faultline creates carries this label (its value: the run id). */
/** The label on every container and network of a run (the run registry finds a killed run's by it). */
export const RUN_LABEL = DOCKER_RUN_LABEL;
/** The design a container or network belongs to. */
export const DESIGN_LABEL = 'faultline.design';
/** Where a container's config files go. */
const CONTAINER_DIR = '/faultline';
/** Named ports get fixed container ports from here on, in the spec's order. */
const FIRST_PORT = 8080;
const STOP_TIMEOUT_S = 5;
/** Where a fake-clock service's offset file and its copy of libfaketime go in its container. */
const CLOCK_FILE = posix.join(CONTAINER_DIR, FAKE_CLOCK_FILE);
const CLOCK_LIBRARY = posix.join(CONTAINER_DIR, FAKE_CLOCK_LIBRARY);

// testcontainers' own defaults do not fit an engine started here: its reaper image cannot be
// pulled without a registry, and /.dockerenv makes it think it runs inside a container. The
// runtime removes what it starts itself (orderly stop, exit hook, `faultline doctor --clean`).
process.env.TESTCONTAINERS_RYUK_DISABLED ??= 'true';
process.env.TESTCONTAINERS_HOST_OVERRIDE ??= '127.0.0.1';

/** Ids of live containers and networks of this process, so an unexpected exit still removes them. */
const liveContainers = new Set<string>();
const liveNetworks = new Set<string>();
let exitHookInstalled = false;

function installExitHook(): void {
  if (exitHookInstalled) return;
  exitHookInstalled = true;
  // 'exit' handlers must be synchronous: the docker CLI removes what the orderly stop missed.
  process.on('exit', () => removeNow([...liveContainers], [...liveNetworks]));
}

/** Removes containers (forcibly, with their volumes), then networks, through the docker CLI; synchronous. */
export function removeNow(containers: readonly string[], networks: readonly string[]): void {
  if (containers.length > 0) spawnSync('docker', ['rm', '-f', '-v', ...containers], { stdio: 'ignore' });
  if (networks.length > 0) spawnSync('docker', ['network', 'rm', ...networks], { stdio: 'ignore' });
}

function tail(text: string, lines: number): string {
  return text.split('\n').slice(-lines - 1).join('\n').trimEnd();
}

export interface DockerRuntimeOptions {
  /** Labels every container and network (`faultline.run=<runId>`), so leftovers can be found. */
  runId: string;
  /** The design: names the network (`faultline-<runId>-<design>`). */
  design: string;
  /** Where each container's log is kept (`<logDir>/<service>.log`); default: not kept. */
  logDir?: string;
  /** The image of every key; default: `chooseImages()` (flags, env, defaults). */
  images?: ImageChoice;
}

/**
 * Runs services as containers through testcontainers, all on one network of their own. The
 * load reaches them at their bridge address (never through docker-proxy's published ports),
 * the other services by their network alias (the service name).
 */
export class DockerRuntime implements Runtime {
  readonly kind = 'docker' as const;
  readonly proxyScope = 'design' as const;
  private readonly services: DockerService[] = [];
  private readonly opts: DockerRuntimeOptions;
  private readonly images: ImageChoice;
  private network: { id: string; name: string } | undefined;
  private networkCreating: Promise<{ id: string; name: string }> | undefined;
  /** Image tag → its id (and repo digest when pulled), for result.json. */
  private readonly images_ = new Map<string, string>();

  constructor(opts: DockerRuntimeOptions) {
    this.opts = opts;
    this.images = opts.images ?? chooseImages();
    installExitHook();
  }

  private async ensureNetwork(client: ContainerRuntimeClient): Promise<{ id: string; name: string }> {
    this.networkCreating ??= (async () => {
      const name = `faultline-${this.opts.runId}-${this.opts.design}`.replace(/[^A-Za-z0-9_.-]/g, '_');
      const net = await client.network.create({ Name: name, Driver: 'bridge', CheckDuplicate: true, Labels: { [RUN_LABEL]: this.opts.runId, [DESIGN_LABEL]: this.opts.design } });
      liveNetworks.add(net.id);
      this.network = { id: net.id, name };
      return this.network;
    })();
    return this.networkCreating;
  }

  imagesUsed(): Record<string, string> {
    return Object.fromEntries(this.images_);
  }

  async start(spec: ServiceSpec, opts: StartOptions = {}): Promise<StartedService> {
    if (!spec.container) {
      throw new FaultlineError('setup', `design '${this.opts.design}': service '${spec.name}' (${spec.target}) has no container form, so it cannot run in the docker runtime`, { hint: 'use --runtime local' });
    }
    const clockLibrary = spec.fakeClock ? fakeClockLibrary(spec.name) : undefined;
    const client = await getContainerRuntimeClient();
    const network = await this.ensureNetwork(client);
    const ports = Object.fromEntries(spec.ports.map((p, i) => [p, FIRST_PORT + i]));
    // Other containers reach a service by its network alias, which is known before it starts.
    const advertised = Object.fromEntries(spec.ports.map((p) => [p, opts.advertised?.[p] ?? { host: spec.name, port: ports[p]! }]));
    const proc = spec.container({ dir: CONTAINER_DIR, host: '0.0.0.0', ports, links: opts.links ?? {}, advertised });
    const image = this.images[proc.image];
    const logFile = join(await mkdtemp(join(tmpdir(), `faultline-${this.opts.runId}-${spec.name}-`)), `${spec.name}.log`);
    const service = new DockerService(spec, proc, image, network.name, ports, logFile, this.opts, clockLibrary);
    this.services.push(service);
    try {
      await service.launch(client);
    } catch (err) {
      await service.stop();
      throw err;
    }
    this.images_.set(image, await imageId(client, image));
    return service;
  }

  async stopAll(): Promise<void> {
    for (const s of [...this.services].reverse()) await s.stop();
    if (this.networkCreating) {
      const net = await this.networkCreating.catch(() => undefined);
      this.networkCreating = undefined;
      if (net) {
        const client = await getContainerRuntimeClient();
        // A container created but never started (its start failed) is not a service yet; it
        // still carries the labels, and the network cannot go while it is attached.
        const strays = spawnSync('docker', ['ps', '-aq', '--filter', `label=${RUN_LABEL}=${this.opts.runId}`, '--filter', `label=${DESIGN_LABEL}=${this.opts.design}`], { encoding: 'utf8' });
        removeNow(strays.stdout?.split('\n').filter(Boolean) ?? [], []);
        await client.network.remove(client.network.getById(net.id)).catch(() => {});
        liveNetworks.delete(net.id);
      }
    }
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stopAll();
  }
}

/** An image's repo digest when it came from a registry, else its local id. */
async function imageId(client: ContainerRuntimeClient, image: string): Promise<string> {
  try {
    const info = await client.image.inspect(ImageName.fromString(image)) as unknown as { Id: string; RepoDigests?: string[] };
    return info.RepoDigests?.[0] ?? info.Id;
  } catch {
    return 'unknown';
  }
}

class DockerService implements StartedService {
  readonly name: string;
  readonly target: string;
  program = { name: '', version: '' };
  private container: StartedTestContainer | undefined;
  private ip = '';
  private stopped = false;
  private log: WriteStream | undefined;
  /** Where its cost is read on the host: the container's first process and its cgroup; none while it is not running. */
  private usageFrom: { pid: number; cgroup: CgroupPaths | undefined } | undefined;
  private readonly spec: ServiceSpec;
  private readonly proc: ContainerProcess;
  private readonly image: string;
  private readonly network: string;
  private readonly ports: Record<string, number>;
  private readonly logFile: string;
  private readonly opts: DockerRuntimeOptions;
  /** The host's libfaketime, copied into the container, for a spec with `fakeClock`. */
  private readonly clockLibrary: string | undefined;
  readonly setClockOffset?: (ms: number) => Promise<void>;

  constructor(spec: ServiceSpec, proc: ContainerProcess, image: string, network: string, ports: Record<string, number>, logFile: string, opts: DockerRuntimeOptions, clockLibrary?: string) {
    this.spec = spec;
    this.proc = proc;
    this.image = image;
    this.network = network;
    this.ports = ports;
    this.logFile = logFile;
    this.opts = opts;
    this.clockLibrary = clockLibrary;
    this.name = spec.name;
    this.target = spec.target;
    if (clockLibrary !== undefined) this.setClockOffset = (ms) => this.moveClock(ms);
  }

  private port(port?: string): number {
    return portNumber(this.spec, this.ports, port);
  }

  /** The container's address on the design's network: the host reaches it without docker-proxy. */
  endpoint(port?: string): Endpoint {
    return { host: this.ip, port: this.port(port) };
  }

  peerEndpoint(port?: string): Endpoint {
    return { host: this.name, port: this.port(port) };
  }

  url(port?: string): string {
    const ep = this.endpoint(port);
    return `http://${ep.host}:${ep.port}`;
  }

  async launch(client: ContainerRuntimeClient): Promise<void> {
    const files = Object.entries(this.proc.files ?? {}).map(([rel, content]) => ({ content, target: posix.join(CONTAINER_DIR, rel) }));
    const copies = Object.entries(this.proc.copy ?? {}).map(([target, source]) => ({ source, target }));
    let clockEnv: Record<string, string> = {};
    if (this.clockLibrary !== undefined) {
      // The host's own build of the library: any glibc image can load it, none needs to carry it.
      // The offset file lives in the container, so it stays across a restart of the container.
      files.push({ content: offsetFileText(0), target: CLOCK_FILE });
      copies.push({ source: this.clockLibrary, target: CLOCK_LIBRARY });
      clockEnv = fakeClockEnv(CLOCK_LIBRARY, CLOCK_FILE, this.proc.env?.LD_PRELOAD);
    }
    const container = new GenericContainer(this.image)
      .withName(`faultline-${this.opts.runId}-${this.opts.design}-${this.name}`.replace(/[^A-Za-z0-9_.-]/g, '_'))
      .withLabels({ [RUN_LABEL]: this.opts.runId, [DESIGN_LABEL]: this.opts.design, 'faultline.service': this.name })
      .withNetworkMode(this.network)
      .withNetworkAliases(this.name)
      .withEntrypoint([this.proc.command])
      .withCommand(this.proc.args)
      .withEnvironment({ ...this.proc.env, ...clockEnv, FAULTLINE_RUN_ID: this.opts.runId })
      .withCopyContentToContainer(files)
      .withCopyFilesToContainer(copies);
    try {
      this.container = await container.start();
    } catch (err) {
      throw new FaultlineError('target-start', `service '${this.name}' (${this.target}): container from image '${this.image}' did not start: ${err instanceof Error ? err.message : String(err)}`, {
        hint: `build or pull the image (node harness/tooling/docker/build-images.ts builds local ones), or choose another with --image ${this.proc.image}=<image> or FAULTLINE_IMAGE_${this.proc.image.toUpperCase()}`,
        cause: err,
      });
    }
    liveContainers.add(this.container.getId());
    await this.afterStart(client);
  }

  /** Reads the address, follows the log and waits for readiness (after every start and restart). */
  private async afterStart(client: ContainerRuntimeClient): Promise<void> {
    const c = this.container!;
    const dockerode = client.container.getById(c.getId());
    const info = await client.container.inspect(dockerode);
    this.ip = info.NetworkSettings.Networks[this.network]?.IPAddress ?? '';
    // Read from the host each second: a `docker exec` or the stats API is far too slow for that.
    const pid = info.State.Pid;
    this.usageFrom = pid > 0 ? { pid, cgroup: await cgroupPaths(pid) } : undefined;
    const startedAt = new Date(info.State.StartedAt).getTime() / 1000;
    this.log?.end();
    const log = createWriteStream(this.logFile, { flags: 'a' });
    this.log = log;
    (await client.container.logs(dockerode, { since: Math.floor(startedAt) })).pipe(log);

    const ac = new AbortController();
    const timer = setTimeout(() => ac.abort(new Error('timeout')), this.spec.ready.timeoutMs);
    // A container that exits before it is ready ends the wait at once.
    void dockerode.wait().then(() => ac.abort(new Error('exited')), () => {});
    try {
      await this.spec.ready.waitUntilReady({ endpoint: (p) => this.endpoint(p), log: () => this.readLog(), signal: ac.signal });
      this.program = { name: this.spec.program.name, version: await this.programVersion() };
    } catch (err) {
      const state = (await client.container.inspect(dockerode).catch(() => undefined))?.State;
      const why = state && !state.Running
        ? `its container exited with code ${state.ExitCode} before it was ready`
        : ac.signal.aborted
          ? `it was not ready after ${this.spec.ready.timeoutMs} ms (waiting for ${this.spec.ready.describe()} at ${this.ip})`
          : String(err);
      const text = tail(await this.readLog(), 20);
      throw new FaultlineError('target-start', `service '${this.name}' (${this.target}, image ${this.image}) failed to start: ${why}`, {
        detail: text ? `last lines of its log:\n${text}` : 'its log is empty',
        hint: 'read the log lines above; docker logs shows the container log while it runs',
        cause: err,
      });
    } finally {
      clearTimeout(timer);
    }
  }

  /** The program's version asked inside the container, else the image it runs. */
  private async programVersion(): Promise<string> {
    const { versionArgs, parseVersion } = this.spec.program;
    if (!versionArgs || !parseVersion) return this.image;
    try {
      const r = await this.container!.exec([this.proc.command, ...versionArgs]);
      return parseVersion(`${r.stdout}${r.stderr}`) ?? this.image;
    } catch {
      return this.image;
    }
  }

  private async readLog(): Promise<string> {
    try {
      return await readFile(this.logFile, 'utf8');
    } catch {
      return '';
    }
  }

  private async dockerode() {
    const client = await getContainerRuntimeClient();
    if (!this.container || this.stopped) {
      throw new FaultlineError('fault', `service '${this.name}' is not running (it was stopped)`);
    }
    return { client, c: client.container.getById(this.container.getId()) };
  }

  async kill(signal: NodeJS.Signals = 'SIGKILL'): Promise<void> {
    const { c } = await this.dockerode();
    try {
      await c.kill({ signal });
    } catch (err) {
      throw new FaultlineError('fault', `service '${this.name}' is not running, so ${signal} cannot reach it: ${err instanceof Error ? err.message : String(err)}`);
    }
    if (signal === 'SIGKILL') await c.wait();
  }

  async pause(): Promise<void> {
    const { c } = await this.dockerode();
    await c.pause();
  }

  async resume(): Promise<void> {
    const { c } = await this.dockerode();
    await c.unpause();
  }

  /** Restarts the same container: its network alias stays, so links by name keep working. */
  async restart(): Promise<void> {
    const { client, c } = await this.dockerode();
    const state = (await client.container.inspect(c)).State;
    this.usageFrom = undefined;
    if (state.Paused) await c.unpause();
    if (state.Running) await c.stop({ t: STOP_TIMEOUT_S }).catch(() => {});
    await c.start();
    await this.afterStart(client);
  }

  /**
   * Rewrites the offset file inside the container: a running one through `sh` (a temp file,
   * then `mv`, so the library never finds it half-written or missing); one that is not
   * running (killed, or frozen by docker pause, when exec is refused) through the engine's
   * archive copy, which nothing reads while it lands.
   */
  private async moveClock(ms: number): Promise<void> {
    const { client, c } = await this.dockerode();
    const state = (await client.container.inspect(c)).State;
    const text = offsetFileText(ms);
    if (!state.Running || state.Paused) {
      await this.container!.copyContentToContainer([{ content: text, target: CLOCK_FILE }]);
      // A frozen process may read its clock again within the second it last read it.
      if (state.Paused) await untilOffsetRead(Date.now());
      return;
    }
    if (state.Pid > 0 && (await fakeClockLoadedIn(state.Pid)) === false) throw notLoadedError(this.name, this.target, state.Pid);
    const tmp = `${CLOCK_FILE}.tmp`;
    // The exec inherits the container's variables; the shell and mv need no fake clock.
    const r = await this.container!.exec(['sh', '-c', `printf '%s\\n' '${text.trim()}' > ${tmp} && mv ${tmp} ${CLOCK_FILE}`], { env: { LD_PRELOAD: '' } });
    if (r.exitCode !== 0) {
      throw new FaultlineError('fault', `service '${this.name}' (${this.target}): the clock offset file in its container could not be rewritten (sh exited with ${r.exitCode}: ${r.output.trim() || 'no output'})`, {
        hint: `clock faults need sh and mv in the image (${this.image}); Debian-based images have them`,
      });
    }
    await untilOffsetRead(Date.now());
  }

  /** Stops and removes the container, keeping its log. Idempotent. */
  async stop(): Promise<void> {
    if (this.stopped) return;
    this.stopped = true;
    this.usageFrom = undefined;
    const id = this.container?.getId();
    if (id) {
      const client = await getContainerRuntimeClient();
      const c = client.container.getById(id);
      await c.unpause().catch(() => {});
      await c.stop({ t: STOP_TIMEOUT_S }).catch(() => {});
      await c.remove({ force: true, v: true }).catch(() => {});
      liveContainers.delete(id);
    }
    await new Promise<void>((resolve) => (this.log ? this.log.end(resolve) : resolve()));
    if (this.opts.logDir) {
      await mkdir(this.opts.logDir, { recursive: true });
      await copyFile(this.logFile, join(this.opts.logDir, `${this.name}.log`)).catch(() => {});
    }
    rmSync(join(this.logFile, '..'), { recursive: true, force: true });
  }

  async logTail(lines = 20): Promise<string> {
    return tail(await this.readLog(), lines);
  }

  /**
   * Read from the host: CPU time from the container's cgroup (exact, every process it ever ran),
   * resident memory summed over its processes in /proc, like the local runtime's, so `rss`
   * means the same in both. The cgroup's own memory figure does not: file pages (the node
   * binary, shared libraries) are charged to whichever cgroup first read them, so it showed
   * 28 MB for a node service whose processes were 75 MB resident. Either source stands in for
   * the other when only one can be read; a container that exited has neither: no sample.
   */
  async usage(): Promise<Usage | undefined> {
    const from = this.usageFrom;
    if (!from) return undefined;
    const [cgroup, processes] = await Promise.all([
      from.cgroup ? cgroupUsage(from.cgroup).catch(() => undefined) : undefined,
      treeUsage(from.pid),
    ]);
    if (!cgroup || !processes) return cgroup ?? processes;
    return { cpuUs: cgroup.cpuUs, rssBytes: processes.rssBytes };
  }

  async [Symbol.asyncDispose](): Promise<void> {
    await this.stop();
  }
}
