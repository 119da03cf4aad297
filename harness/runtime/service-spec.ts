import type { Endpoint } from '../base/endpoint.ts';
import { FaultlineError } from '../errors.ts';
import type { ImageKey } from './images.ts';
import type { WaitStrategy } from './wait.ts';

/** Where a service runs and what it was given, when the local runtime builds its command. */
export interface LocalContext {
  /** The service's own temp dir (config files, pid files, scratch); removed when it stops. */
  dir: string;
  /** The address it must bind: always loopback. */
  host: string;
  /** A free port for each of the spec's named ports. */
  ports: Record<string, number>;
  /**
   * Where to reach each of this service's outgoing links (by link name): the Toxiproxy proxy
   * when a fault may touch the link, else the other service directly.
   */
  links: Record<string, { host: string; port: number }>;
  /**
   * For each named port, the address its clients reach it at: the Toxiproxy proxy's listen
   * address when a fault may touch the client link to it (so a server that advertises itself,
   * like a Kafka broker, sends its clients through the proxy), else its own address (in the
   * docker runtime: its network alias). Known before the service starts.
   */
  advertised: Record<string, { host: string; port: number }>;
}

/** How to run a service as a local process; computed fresh at every start. */
export interface LocalProcess {
  command: string;
  args: string[];
  env?: Record<string, string>;
  /** Working directory of the process (local runtime); default the service's own dir. */
  cwd?: string;
  /** Files to write into the service dir before start (path relative to the dir → content). */
  files?: Record<string, string>;
}

/**
 * Where a service runs when the docker runtime builds its container: `dir` is a folder inside
 * the container, `host` the address to bind (all of the container's), `ports` fixed container
 * ports, `links` the other services' network aliases (or the Toxiproxy container).
 */
export type ContainerContext = LocalContext;

/** How to run a service as a container; computed fresh at every start. */
export interface ContainerProcess extends LocalProcess {
  /** Which configurable image runs it (`node`, `haproxy`, …); the runtime maps it to a tag. */
  image: ImageKey;
  /** Host files copied into the container before it starts (container path → host path). */
  copy?: Record<string, string>;
}

/**
 * One service of a design, as a target builds it: plain data plus the function that renders
 * its command. The runtime decides ports and directories, then asks for the command.
 */
export interface ServiceSpec {
  /** Unique within its design: `service`, `lb`, `backend-1`. */
  name: string;
  /** The target that built it (`http-service`, `node-cluster`). */
  target: string;
  /** Named ports the service listens on; the first is its main one. */
  ports: readonly string[];
  /** The protocol each named port speaks (`http`, `grpc`, `redis`); result.json records endpoints as `<protocol>://host:port`. Default `tcp`. */
  protocols?: Readonly<Record<string, string>>;
  local(ctx: LocalContext): LocalProcess;
  /** How to run it as a container; a target without one runs in the local runtime only. */
  container?(ctx: ContainerContext): ContainerProcess;
  /**
   * Named ports with a number of their own, for a program that cannot be told where to listen;
   * the local runtime refuses to start it when one is in use. Every other port gets a free one.
   */
  fixedPorts?: Readonly<Record<string, number>>;
  /**
   * A service faultline does not start: it already listens at these loopback addresses (by
   * named port). The runtime only waits for `ready` there and never calls `local`; a proxy may
   * still stand on its client link, and process faults cannot reach it.
   */
  external?: Readonly<Record<string, Endpoint>>;
  /** When the service counts as started. */
  ready: WaitStrategy;
  /** Signal for a graceful stop; default SIGTERM. The runtime escalates to SIGKILL after a grace period. */
  stopSignal?: NodeJS.Signals;
  /**
   * The service's process reads the wall clock through libfaketime (Debian `faketime`), so a
   * `clock` fault can move it: the runtime preloads the library into its command and gives it
   * an offset file (0 at first start). For dynamically linked programs that read the clock
   * through glibc (Node services are checked; Go programs are not reachable this way), and in
   * the docker runtime an image with glibc (Debian's, like both `node` images).
   */
  fakeClock?: true;
  /**
   * The program it runs and how to read its version, for result.json. `versionArgs` and
   * `parseVersion` let the docker runtime ask the program inside its container (run as
   * `<command> ...versionArgs`, stdout and stderr parsed); without them it records the image.
   */
  program: { name: string; version(): Promise<string>; versionArgs?: string[]; parseVersion?(output: string): string | undefined };
}

/** A named connection from one service to another, e.g. `lb->backend-1`. */
export interface LinkSpec {
  name: string;
  from: string;
  to: string;
  /** The port of `to`; default its first. */
  port?: string;
}

/** A service's named port. */
export interface PortRef {
  service: string;
  port: string;
}

/**
 * Where the load reaches a design in one protocol: every endpoint it may use (one server, a
 * cluster's brokers, five independent Redis masters). A driver uses all of them.
 */
export interface EntrySpec {
  /** `http`, `grpc`, `amqp`, `kafka`, `redis`, … */
  protocol: string;
  endpoints: readonly PortRef[];
}

/**
 * A design's services in start order (a service after those its links lead to), its links,
 * and its entries: the protocols the load may speak to it, the preferred one first. The load's
 * own link to each entry service is `client-><service>`.
 */
export interface Topology {
  services: ServiceSpec[];
  links?: LinkSpec[];
  entries: readonly EntrySpec[];
}

/** An entry of one protocol at one service's port. */
export function entryAt(protocol: string, service: string, port: string): EntrySpec {
  return { protocol, endpoints: [{ service, port }] };
}

/** The name of the link from the load generator to one service. */
export function clientLinkName(service: string): string {
  return `client->${service}`;
}

/** The protocols a topology's entries speak, preferred first. */
export function entryProtocols(topology: Topology): string[] {
  return topology.entries.map((e) => e.protocol);
}

/** Every link name of a topology: the client's (one per entry service), then the services'. */
export function linkNames(topology: Topology): string[] {
  const clients = [...new Set(topology.entries.flatMap((e) => e.endpoints.map((p) => clientLinkName(p.service))))];
  return [...clients, ...(topology.links ?? []).map((l) => l.name)];
}

/** The number of a service's named port (default its first); a name it does not have is an error naming the valid ones. */
export function portNumber(spec: ServiceSpec, ports: Readonly<Record<string, number>>, port?: string): number {
  const name = port ?? spec.ports[0];
  const n = name === undefined ? undefined : ports[name];
  if (n === undefined) throw new FaultlineError('internal', `service '${spec.name}' has no port '${port}'; its ports: ${spec.ports.join(', ')}`);
  return n;
}
