import { faultSubject } from '../result/result.ts';
import { setTimeout as sleep } from 'node:timers/promises';
import { FaultlineError } from '../errors.ts';
import type { FaultRecord } from '../result/result.ts';
import { parseDuration } from '../base/duration.ts';
import { applyFault, type FaultTargets, type Remover } from './apply-fault.ts';
import { faultKind, type Fault } from './fault-spec.ts';

function settings(f: Fault): Record<string, unknown> {
  const { name: _n, at: _a, for: _f, designs: _d, link: _l, service: _s, client: _c, ...rest } = f as Fault & { link?: string; service?: string; client?: string };
  return rest;
}

/**
 * Runs one design's faults on the clock of its measured window: each is applied at its offset
 * and undone when its duration ends (or when the window ends). Actual times go into records.
 * A fault that cannot be applied or undone calls `onFailure` with a `fault` error: it is never
 * skipped silently.
 */
export class FaultTimeline {
  readonly records: FaultRecord[];
  private readonly active = new Map<string, Remover>();
  private readonly tasks: Promise<void>[] = [];
  private readonly ac = new AbortController();
  private readonly faults: readonly Fault[];
  private readonly targets: FaultTargets;
  private readonly windowStartMs: number;
  private readonly onFailure: (err: FaultlineError) => void;

  constructor(faults: readonly Fault[], targets: FaultTargets, windowStartMs: number, onFailure: (err: FaultlineError) => void) {
    this.faults = faults;
    this.targets = targets;
    this.windowStartMs = windowStartMs;
    this.onFailure = onFailure;
    this.records = faults.map((f) => {
      const forMs = f.for === undefined ? undefined : parseDuration(f.for)!;
      const link = 'link' in f ? f.link : undefined;
      const service = 'service' in f ? f.service : undefined;
      const client = 'client' in f ? f.client : undefined;
      return {
        name: f.name,
        kind: faultKind(f),
        ...(link !== undefined ? { link } : {}),
        ...(service !== undefined ? { service } : {}),
        ...(client !== undefined ? { client } : {}),
        settings: settings(f),
        atMs: parseDuration(f.at)!,
        ...(forMs !== undefined ? { forMs } : {}),
      };
    });
  }

  private now(): number {
    return Math.round((performance.now() - this.windowStartMs) * 10) / 10;
  }

  private fail(rec: FaultRecord, what: 'apply' | 'remove', err: unknown): void {
    const why = err instanceof Error ? err.message : String(err);
    rec.error = `failed to ${what}: ${why}`;
    this.onFailure(new FaultlineError('fault', `fault '${rec.name}' (${rec.kind} on ${faultSubject(rec)}) failed to ${what} at ${(this.now() / 1000).toFixed(1)}s: ${why}`, {
      hint: 'check that the link or service exists in every design the fault applies to, and that the service is running at that time',
      cause: err,
    }));
  }

  /** Schedules every fault. */
  start(): void {
    this.faults.forEach((f, i) => this.tasks.push(this.run(f, this.records[i]!)));
  }

  private async run(f: Fault, rec: FaultRecord): Promise<void> {
    const signal = this.ac.signal;
    try {
      await sleep(Math.max(0, this.windowStartMs + rec.atMs - performance.now()), undefined, { signal });
    } catch {
      return;
    }
    const began = this.now();
    let remover: Remover | undefined;
    try {
      remover = await applyFault(f, this.targets);
    } catch (err) {
      this.fail(rec, 'apply', err);
      return;
    }
    if (rec.kind === 'restart') {
      // Down from the moment the restart began until the service was ready again.
      rec.appliedAtMs = began;
      rec.removedAtMs = this.now();
      return;
    }
    rec.appliedAtMs = this.now();
    if (!remover) return;
    this.active.set(rec.name, remover);
    if (rec.forMs === undefined) return;
    try {
      await sleep(Math.max(0, this.windowStartMs + rec.atMs + rec.forMs - performance.now()), undefined, { signal });
    } catch {
      return;
    }
    await this.undo(rec);
  }

  private async undo(rec: FaultRecord): Promise<void> {
    const remover = this.active.get(rec.name);
    if (!remover) return;
    this.active.delete(rec.name);
    try {
      await remover();
      rec.removedAtMs = this.now();
    } catch (err) {
      this.fail(rec, 'remove', err);
    }
  }

  /** Names of the faults in effect at any time between `fromMs` and `toMs` (window ms). */
  activeBetween(fromMs: number, toMs: number): string[] {
    return activeBetween(this.records, fromMs, toMs);
  }

  /** Cancels what has not started and undoes what is in effect (the window has ended). */
  async stop(): Promise<void> {
    this.ac.abort();
    await Promise.allSettled(this.tasks);
    for (const rec of this.records) await this.undo(rec);
  }
}

/** Names of the faults whose window overlaps [fromMs, toMs); a fault never removed lasts to the end. */
export function activeBetween(records: readonly FaultRecord[], fromMs: number, toMs: number): string[] {
  return records
    .filter((r) => r.appliedAtMs !== undefined && r.appliedAtMs < toMs && (r.removedAtMs === undefined || r.removedAtMs > fromMs))
    .map((r) => r.name);
}
