import type { Endpoint } from '../base/endpoint.ts';
import type { ServiceSpec } from './service-spec.ts';

export type { Endpoint };

/**
 * A service that has started and passed its readiness check. Faults act through it, and
 * `await using` stops it at the end of a block.
 */
export interface StartedService extends AsyncDisposable {
  readonly name: string;
  readonly target: string;
  /** The endpoint of a named port (default: the service's first port). */
  endpoint(port?: string): Endpoint;
  /**
   * Where the design's other services reach a named port: the same as `endpoint` in the local
   * runtime, the service's network alias in the docker runtime (stable across restarts).
   */
  peerEndpoint(port?: string): Endpoint;
  /** `http://host:port` of a named port. */
  url(port?: string): string;
  /** Sends a signal to the whole service (its process group or container). */
  kill(signal?: NodeJS.Signals): Promise<void>;
  /** Freezes the service (SIGSTOP / docker pause): connections stay open, nothing answers. */
  pause(): Promise<void>;
  resume(): Promise<void>;
  /** Stops it and starts it again on the same ports, waiting until it is ready. */
  restart(): Promise<void>;
  /**
   * Sets how far the service's wall clock is off true time (ms, signed; 0 = true time), and
   * resolves once every wall-clock read its processes make from then on sees it (at most ~1 s
   * after the write: libfaketime reads its offset file at most once a second). Monotonic
   * clocks are not moved. The offset stays across `restart()` and a kill and start, as a
   * machine's clock stays wrong when a process on it starts again. Present only for a spec
   * with `fakeClock`.
   */
  setClockOffset?(ms: number): Promise<void>;
  /** Stops it gracefully, then forcibly after a grace period. Idempotent. */
  stop(): Promise<void>;
  /** The last lines of its log. */
  logTail(lines?: number): Promise<string>;
  /**
   * What the whole service (every process of its group, or its container) has cost so far:
   * CPU time since it last started (user + system, µs; it starts again from zero after a
   * restart) and its resident memory now (bytes). Undefined when it is not running.
   */
  usage(): Promise<{ cpuUs: number; rssBytes: number } | undefined>;
  /** The program it runs and that program's version. */
  readonly program: { name: string; version: string };
}

/** What a service is given when it starts, besides its own ports. */
export interface StartOptions {
  /** Where the service reaches each of its outgoing links (by link name). */
  links?: Record<string, Endpoint>;
  /** For ports whose clients come through a proxy: the proxy's address, which the service may advertise. */
  advertised?: Record<string, Endpoint>;
}

/** Where services run: `local` processes or `docker` containers, behind the same face. */
export interface Runtime extends AsyncDisposable {
  readonly kind: 'local' | 'docker';
  /**
   * Where fault proxies live for this runtime's designs: `run` shares one Toxiproxy server among
   * every design of a run (local processes), `design` starts one per design on its own network.
   */
  readonly proxyScope: 'run' | 'design';
  /** Starts one service and waits until it is ready; on failure stops what it started and throws. */
  start(spec: ServiceSpec, opts?: StartOptions): Promise<StartedService>;
  /** Stops every service this runtime started and removes their files. Idempotent. */
  stopAll(): Promise<void>;
  /** The images it ran, tag → id (a container runtime); none for local processes. */
  imagesUsed(): Record<string, string>;
}
