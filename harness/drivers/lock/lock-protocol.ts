/**
 * What the lock driver, its client processes and the protected resource say to each other.
 * Types and plain constants only: the client process imports this file too.
 */

/**
 * How a client takes and gives back a lock in Redis (a design's client option `strategy`):
 * - `setnx-expire`: SETNX, then PEXPIRE: two commands, so a client that dies between them
 *   leaves a lock that never expires. Release: DEL.
 * - `set-nx-px`: one SET NX PX, no token. Release: DEL, whoever holds the lock by then.
 * - `token`: SET NX PX with a random value; release by compare-and-delete (Lua).
 * - `watchdog`: `token`, and the lease renewed every ttl/3 by compare-and-pexpire (Lua) while
 *   the holder holds.
 * - `redlock`: SET NX PX token on every master of the design; held when a majority (N/2+1)
 *   said yes within the validity time (ttl − elapsed − drift, drift = ttl × 0.01 + 2 ms), else
 *   released everywhere. Release: compare-and-delete on every master.
 * - `fenced`: `token`, plus a fencing token (INCR of a per-resource counter in the same Lua
 *   script as the SET) sent with every request to the resource, which refuses a token lower
 *   than the highest it has seen.
 * Every strategy but `redlock` uses the design's first master.
 */
export const lockStrategies = ['setnx-expire', 'set-nx-px', 'token', 'watchdog', 'redlock', 'fenced'] as const;
export type LockStrategy = (typeof lockStrategies)[number];

/** The Redis key of a resource's lock. */
export const lockKey = (resource: string) => `faultline:lock:${resource}`;
/** The Redis key of a resource's fencing counter (`fenced`). */
export const fenceKey = (resource: string) => `faultline:fence:${resource}`;

/** Where a client stops for an armed fault: inside a hold after its read, or between SETNX and PEXPIRE. */
export type FaultPoint = 'hold' | 'gap';

/** Everything a client process needs, sent once in `init`. */
export interface ClientConfig {
  /** `client-1`, … */
  name: string;
  strategy: LockStrategy;
  /** The masters, as the design's entry gives them (proxied where a fault touches the link). */
  masters: { host: string; port: number }[];
  /** The protected resource, on 127.0.0.1, outside every fault. */
  resource: { host: string; port: number };
  /** The resources this client draws from at random, one per cycle. */
  resources: string[];
  ttlMs: number;
  holdMs: number;
  acquireTimeoutMs: number;
  retryDelayMs: number;
  /** Time outside the critical section between a release and the next attempt (±50%). */
  thinkMs: number;
  /** A command not answered within this fails (per master for `redlock`). */
  commandTimeoutMs: number;
}

/** Driver → client. */
export type ToClient =
  | { t: 'init'; config: ClientConfig }
  | { t: 'go' }
  /** Finish the cycle under way (release what is held), then say `stopped`. */
  | { t: 'stop' }
  /** Stop at `point` the next time there (say `at` and wait for `continue`); `none` disarms. */
  | { t: 'arm'; point: FaultPoint | 'none' }
  | { t: 'continue' };

/** What a release found in Redis: its own lock deleted, another holder's lock deleted, or nothing of its own there. */
export type ReleaseOutcome = 'own' | 'foreign' | 'none';

/** Client → driver. Durations in µs, measured on the client's own monotonic clock. */
export type FromClient =
  | { t: 'ready' }
  | { t: 'acquired'; r: string; latencyUs: number; failedAttempts: number; fence?: number }
  | { t: 'acquire-failed'; r: string; latencyUs: number; failedAttempts: number; kind: string; message?: string }
  /** `of`: the client whose lock a foreign release deleted; `heldUs`: from acquired to the release sent. */
  | { t: 'released'; r: string; heldUs: number; outcome: ReleaseOutcome; of?: string }
  /** The holder learned it lost its lock: a renewal or release found another value, or the resource refused its fencing token. */
  | { t: 'lease-lost'; r: string; why: string }
  | { t: 'at'; point: FaultPoint }
  | { t: 'stopped' };

/**
 * The resource's wire protocol: one JSON object a line each way, one request at a time per
 * connection. Requests: `hi` (who is on this connection), `begin` (a hold starts: `h` names
 * it), `read`, `write` (`v`: the new counter value), `renew` (the holder's lease was renewed),
 * `end` (the hold ends). `k`: the fencing token, with the `fenced` strategy.
 * Answers: `{ ok: true, v? }`, or `{ ok: false, why }`.
 */
export type ResourceRequest =
  | { o: 'hi'; c: string; p: number }
  | { o: 'begin'; r: string; h: string; k?: number }
  | { o: 'read'; r: string; k?: number }
  | { o: 'write'; r: string; v: number; k?: number }
  | { o: 'renew'; r: string }
  | { o: 'end'; r: string };

export type ResourceAnswer = { ok: true; v?: number } | { ok: false; why: string };

/** The value a client puts in a lock: whose it is, so a release that deletes it can tell (`client-2:4711:17`). */
export function lockValue(client: string, pid: number, n: number, random = ''): string {
  return `${client}:${pid}:${n}${random === '' ? '' : `:${random}`}`;
}

/** The client named in a lock value. */
export function holderOf(value: string): string {
  return value.split(':')[0] ?? value;
}
