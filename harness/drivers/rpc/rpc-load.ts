import type { MetricSink } from '../../metrics/sink.ts';
import { SHARE_TALLY, type LoadDriver } from '../driver.ts';
import { ClosedLoops, OpenPacer, type SendOne } from '../pacer.ts';
import type { RpcCall, RpcWorkload } from './rpc-workload.ts';
import { weightedCycle } from '../weighted-cycle.ts';

/** Distributions and counter of streaming calls. */
export const FIRST_ITEM = 'first_item';
export const LAST_ITEM = 'last_item';
export const ITEMS = 'items';

/**
 * gRPC status codes by number, as the error kinds name them (`grpc_unavailable`): the
 * protocol's fixed table (grpc/grpc doc/statuscodes.md), written out so naming a kind never
 * loads a gRPC client.
 */
export const GRPC_STATUS_NAMES = [
  'ok', 'cancelled', 'unknown', 'invalid_argument', 'deadline_exceeded', 'not_found', 'already_exists', 'permission_denied', 'resource_exhausted',
  'failed_precondition', 'aborted', 'out_of_range', 'unimplemented', 'internal', 'unavailable', 'data_loss', 'unauthenticated',
] as const;

/** The error kind of a gRPC status code: `grpc_<name>`, or `grpc_<code>` for a number outside the table. */
export function grpcErrorKind(code: number): string {
  return `grpc_${GRPC_STATUS_NAMES[code] ?? code}`;
}

/** What a streaming call saw of its items: how many, and when the first and the last arrived (performance.now() ms). */
export interface ItemTimes {
  items: number;
  firstMs?: number;
  lastMs?: number;
}

/**
 * Records one finished call: its outcome with the latency from its due time (or, for a failure
 * with no answer, without one), who served it, and for a stream its items and when the first
 * and the last arrived, from the due time too.
 */
export function recordCall(sink: MetricSink, call: RpcCall, dueMs: number, outcome: string, answered: boolean, servedBy: string | undefined, stream?: ItemTimes): void {
  const now = performance.now();
  if (answered) sink.op(call.name, dueMs, Math.round((now - dueMs) * 1000), outcome);
  else sink.failed(call.name, dueMs, outcome);
  if (servedBy !== undefined) sink.tally(SHARE_TALLY, servedBy, dueMs);
  if (stream) {
    if (stream.items > 0) sink.count(ITEMS, dueMs, stream.items);
    if (stream.firstMs !== undefined) sink.value(FIRST_ITEM, dueMs, Math.round((stream.firstMs - dueMs) * 1000));
    if (outcome === 'ok' && stream.lastMs !== undefined) sink.value(LAST_ITEM, dueMs, Math.round((stream.lastMs - dueMs) * 1000));
  }
}

/** Keeps one answer, decoded, in the history (workload `keepAnswers`); `error` when it could not be decoded. */
export function recordAnswer(sink: MetricSink, call: RpcCall, protocol: string, servedBy: string | undefined, answer: { doc: unknown } | { items: unknown[] } | { error: string }): void {
  sink.history(performance.now(), { ev: 'answer', call: call.name, protocol, by: servedBy, ...answer });
}

/**
 * Hands out call k of the workload's fixed cycle, and for each kind of call the instance it
 * goes to in turn: every instance sees every kind of call in the mix's proportions, whatever
 * the cycle's length and the number of instances.
 */
export class CallPicker<T> {
  private readonly entries: { targets: T[]; next: number }[];
  /** Indices into the calls, in the workload's fixed weighted order. */
  private readonly cycle: number[];

  /** `targets(call, i)`: where call i of the normalized calls may go (one per instance, channel, …). */
  constructor(calls: readonly RpcCall[], targets: (call: RpcCall, i: number) => T[]) {
    this.entries = calls.map((c, i) => ({ targets: targets(c, i), next: 0 }));
    this.cycle = weightedCycle(calls.map((c, i) => ({ weight: c.weight, i }))).map((e) => e.i);
  }

  /** Call k's index among the normalized calls, and where it goes. */
  take(k: number): { index: number; target: T } {
    const index = this.cycle[k % this.cycle.length]!;
    const e = this.entries[index]!;
    const target = e.targets[e.next++ % e.targets.length]!;
    return { index, target };
  }
}

/** What an adapter hands the shared pacing: its send, its connections, its setup and teardown. */
export interface RpcTransport {
  connections: number;
  send: SendOne;
  prepare?(): Promise<void>;
  close(): Promise<void>;
}

/** A load driver over one transport: the workload's open schedule through the shared pacer, or its closed loops. */
export function pacedDriver(workload: RpcWorkload, sink: MetricSink, transport: RpcTransport, boundMs: number): LoadDriver {
  const common = { connections: transport.connections, close: () => transport.close(), ...(transport.prepare ? { prepare: () => transport.prepare!() } : {}) };
  if (workload.model === 'open') {
    const pacer = new OpenPacer(workload, { sink, send: transport.send });
    return { ...common, model: 'open', targetRate: pacer.targetRate, start: (window) => pacer.start(window), stop: () => pacer.stop(boundMs) };
  }
  const loops = new ClosedLoops(workload.connections, { sink, send: transport.send });
  return { ...common, model: 'closed', start: (window) => loops.start(window), stop: () => loops.stop(boundMs) };
}
