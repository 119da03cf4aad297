import { connect } from 'node:net';
import { setTimeout as sleep } from 'node:timers/promises';
import type { Endpoint } from './runtime.ts';

// Not an `import`: Node builds an ESM view of node:http by reading every export, which loads its
// bundled fetch client (~20 ms at every start of the CLI, which loads this file to list scenarios).
const { request } = process.getBuiltinModule('node:http');

/** What a wait strategy may look at while a service starts. */
export interface ReadinessProbe {
  endpoint(port?: string): Endpoint;
  /** The service's log so far. */
  log(): Promise<string>;
  /** Aborted when the service exits or the overall start times out. */
  signal: AbortSignal;
}

/** Decides when a started service is ready. Composable: `Wait.forAll([...])`. */
export interface WaitStrategy {
  /** For error messages: `TCP connect to port http`, `HTTP 200 from /health`. */
  describe(): string;
  /** Resolves when ready; rejects when `probe.signal` aborts. */
  waitUntilReady(probe: ReadinessProbe): Promise<void>;
  /** Upper bound on the whole wait, in ms. */
  readonly timeoutMs: number;
}

const POLL_MS = 25;
const DEFAULT_TIMEOUT_MS = 15_000;

async function poll(probe: ReadinessProbe, attempt: () => Promise<boolean>): Promise<void> {
  for (;;) {
    probe.signal.throwIfAborted();
    if (await attempt()) return;
    await sleep(POLL_MS, undefined, { signal: probe.signal });
  }
}

function tcpOpen(ep: Endpoint): Promise<boolean> {
  return new Promise((resolve) => {
    const s = connect({ host: ep.host, port: ep.port });
    s.once('connect', () => { s.destroy(); resolve(true); });
    s.once('error', () => { s.destroy(); resolve(false); });
  });
}

function httpStatus(ep: Endpoint, path: string): Promise<number | undefined> {
  return new Promise((resolve) => {
    const req = request({ host: ep.host, port: ep.port, path, method: 'GET', timeout: 1000, agent: false }, (res) => {
      res.resume();
      res.once('end', () => resolve(res.statusCode));
    });
    req.once('timeout', () => req.destroy());
    req.once('error', () => resolve(undefined));
    req.end();
  });
}

/**
 * A protocol's own readiness check (Redis PING, an AMQP handshake, Kafka metadata, gRPC
 * health): called with the endpoint of the named port until it resolves true. It lives with its
 * target; it should give up on its own within about a second so the wait can try again.
 */
export type Probe = (endpoint: Endpoint, signal: AbortSignal) => Promise<boolean>;

/** Readiness strategies, after testcontainers' `Wait`. */
export const Wait = {
  /** Ready when a protocol probe answers true on the named port; `describe` names it for errors (`Redis PING`). */
  forProbe(describe: string, probe: Probe, opts: { port?: string; timeoutMs?: number } = {}): WaitStrategy {
    return {
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      describe: () => `${describe} to port ${opts.port ?? '(main)'}`,
      waitUntilReady: (p) => poll(p, () => probe(p.endpoint(opts.port), p.signal).catch(() => false)),
    };
  },
  /** Ready when a TCP connection to the named port succeeds. */
  forTcp(port?: string, timeoutMs = DEFAULT_TIMEOUT_MS): WaitStrategy {
    return Wait.forProbe('TCP connect', (ep) => tcpOpen(ep), { ...(port !== undefined ? { port } : {}), timeoutMs });
  },
  /** Ready when `GET path` on the named port answers with `status` (default 200). */
  forHttp(path: string, opts: { port?: string; status?: number; timeoutMs?: number } = {}): WaitStrategy {
    const want = opts.status ?? 200;
    return Wait.forProbe(`HTTP ${want} from GET ${path}`, async (ep) => (await httpStatus(ep, path)) === want, opts);
  },
  /** Ready when the service's log contains a line matching `pattern` (`times` times, default 1). */
  forLog(pattern: RegExp, opts: { times?: number; timeoutMs?: number } = {}): WaitStrategy {
    const times = opts.times ?? 1;
    const global = new RegExp(pattern.source, pattern.flags.includes('g') ? pattern.flags : `${pattern.flags}g`);
    return {
      timeoutMs: opts.timeoutMs ?? DEFAULT_TIMEOUT_MS,
      describe: () => `log line matching ${pattern}${times > 1 ? ` ${times} times` : ''}`,
      waitUntilReady: (probe) => poll(probe, async () => ((await probe.log()).match(global)?.length ?? 0) >= times),
    };
  },
  /** Ready when every strategy is; the timeout is the largest of theirs. */
  forAll(strategies: WaitStrategy[]): WaitStrategy {
    return {
      timeoutMs: Math.max(...strategies.map((s) => s.timeoutMs)),
      describe: () => strategies.map((s) => s.describe()).join(' and '),
      waitUntilReady: async (probe) => {
        for (const s of strategies) await s.waitUntilReady(probe);
      },
    };
  },
};
