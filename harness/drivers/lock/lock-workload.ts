import { z } from 'zod';
import { parseDuration, type Duration } from '../../base/duration.ts';
import { durationSchema } from '../../base/schema-helpers.ts';

/**
 * Where a fault on a lock client lands. `in-hold` (default): a `freeze` or `crash` waits (at
 * most ARM_WAIT_MS) until the client holds a lock and has read the resource, and stops it there,
 * before its write: the pause every argument about lock safety is about (a GC pause inside the
 * critical section), in every run, instead of in the fraction of runs where a fault at a fixed
 * time happens to meet a hold. `anywhere`: the fault lands at its time, wherever the client is.
 */
export const clientFaultPlacements = ['in-hold', 'anywhere'] as const;
export type ClientFaultPlacement = (typeof clientFaultPlacements)[number];

/**
 * Which resource a client locks in each cycle. `random` (default): any of them, drawn again
 * every cycle, so clients contend. `own`: client-k always locks rk (wrapping round when there
 * are fewer resources than clients): with as many resources as clients nobody contends, and
 * what is measured is the lock service's own cost per cycle (what redis-benchmark measures).
 */
export const resourceChoices = ['random', 'own'] as const;
export type ResourceChoice = (typeof resourceChoices)[number];

/**
 * The `lock` workload: `clients` processes, each looping acquire → hold → release on one of
 * `resources` resources chosen at random (or on its own one, `resourceChoice: 'own'`), until
 * the window ends (the closed model). Inside the hold a client reads the protected resource's
 * counter, works for `hold`, and writes the value read plus one.
 */
export interface LockWorkload {
  kind: 'lock';
  /** Only the closed model: each client acquires again as soon as it released. `lock()` fills it in. */
  model: 'closed';
  /** Lock clients, each its own process (faults name them `client-1`, `client-2`, …). Default 4. */
  clients?: number;
  /** Resources contended for, each with its own lock (`r1`, `r2`, …). Default 1. */
  resources?: number;
  /** How a client picks the resource of each cycle (see ResourceChoice). Default `random`. */
  resourceChoice?: ResourceChoice;
  /** The lease: how long a lock lives in Redis unless released or renewed. Default `500ms`. A design may choose its own (client option `ttl`). */
  ttl?: Duration;
  /** Time spent inside the critical section, between the read and the write. Default `20ms`. */
  hold?: Duration;
  /** An acquisition not done within this fails as `acquire_timeout`. Default `5s`. */
  acquireTimeout?: Duration;
  /** The wait before another attempt when the lock is taken, ±50% at random so clients do not move in step. Default `10ms`. */
  retryDelay?: Duration;
  /**
   * Time a client spends outside the critical section after a release, before its next
   * attempt, ±50% at random. Default: `retryDelay`. With none, the client that just released
   * tries again at once, before any waiting client's retry comes round, and keeps the lock to
   * itself for long stretches.
   */
  think?: Duration;
  /** Where a `freeze` or `crash` fault on a client lands. Default `in-hold`. */
  clientFaultsLand?: ClientFaultPlacement;
}

/** Builds a lock workload (the closed model), e.g. `lock({ clients: 4, ttl: '500ms', hold: '20ms' })`. */
export function lock<const W extends Omit<LockWorkload, 'kind' | 'model'> & { model?: 'closed' }>(w: W): W & { kind: 'lock'; model: 'closed' } {
  return { kind: 'lock', model: 'closed', ...w };
}

export const MAX_LOCK_CLIENTS = 64;
export const MAX_LOCK_RESOURCES = 10_000;

const positiveDuration = durationSchema.refine((s) => (parseDuration(s) ?? 0) >= 1, { message: 'give at least 1ms' });

export const lockWorkloadSchema = z.strictObject({
  kind: z.literal('lock'),
  model: z.literal('closed', { message: "the lock workload runs the closed model only: give model: 'closed' (lock() does)" }),
  clients: z.number().int().min(1).max(MAX_LOCK_CLIENTS, `at most ${MAX_LOCK_CLIENTS} clients (each is a process)`).optional(),
  resources: z.number().int().min(1).max(MAX_LOCK_RESOURCES).optional(),
  resourceChoice: z.enum(resourceChoices).optional(),
  ttl: positiveDuration.optional(),
  hold: durationSchema.optional(),
  acquireTimeout: positiveDuration.optional(),
  retryDelay: durationSchema.optional(),
  think: durationSchema.optional(),
  clientFaultsLand: z.enum(clientFaultPlacements).optional(),
}) satisfies z.ZodType<LockWorkload>;

/** A lock workload with every default filled and every duration in ms. */
export interface LockSettings {
  clients: number;
  resources: number;
  resourceChoice: ResourceChoice;
  ttlMs: number;
  holdMs: number;
  acquireTimeoutMs: number;
  retryDelayMs: number;
  thinkMs: number;
  clientFaultsLand: ClientFaultPlacement;
}

export function lockSettings(w: LockWorkload): LockSettings {
  return {
    clients: w.clients ?? 4,
    resources: w.resources ?? 1,
    resourceChoice: w.resourceChoice ?? 'random',
    ttlMs: parseDuration(w.ttl ?? '500ms')!,
    holdMs: parseDuration(w.hold ?? '20ms')!,
    acquireTimeoutMs: parseDuration(w.acquireTimeout ?? '5s')!,
    retryDelayMs: parseDuration(w.retryDelay ?? '10ms')!,
    thinkMs: parseDuration(w.think ?? w.retryDelay ?? '10ms')!,
    clientFaultsLand: w.clientFaultsLand ?? 'in-hold',
  };
}

/** The clients a fault may name: `client-1` … `client-N`. */
export function lockClientNames(w: LockWorkload): string[] {
  return Array.from({ length: w.clients ?? 4 }, (_, i) => `client-${i + 1}`);
}

/** The resources' names: `r1` … `rN`. */
export function resourceNames(count: number): string[] {
  return Array.from({ length: count }, (_, i) => `r${i + 1}`);
}
