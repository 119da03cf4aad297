import type { Recorder } from '../metrics/recorder.ts';

/**
 * Where a driver records. The run swaps `recorder` when warm-up ends; each operation records
 * into the recorder that was current when it was sent, so warm-up traffic never leaks into
 * the measured window.
 */
export interface RecorderSlot {
  recorder: Recorder;
}

/** A protocol's load generator. */
export interface LoadDriver {
  readonly model: 'open' | 'closed';
  readonly connections: number;
  /** Open model: req/s at the start. */
  readonly targetRate?: number;
  /** Begins sending; returns at once. Sending stops by itself at the window's end. */
  start(slot: RecorderSlot): void;
  /** Stops sending and resolves when operations in flight have finished (bounded by their timeout). */
  stop(): Promise<void>;
  /** Releases connections. */
  close(): Promise<void>;
}
