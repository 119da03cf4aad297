import { Pool, type Dispatcher } from 'undici';
import autocannon from 'autocannon';
import { parseDuration } from '../base/duration.ts';
import { ArrivalSchedule } from './arrival-schedule.ts';
import { normalizeRequests, type HttpWorkload, type NormalizedRequest } from './http-workload.ts';
import type { LoadDriver, RecorderSlot } from './load-driver.ts';
import type { Recorder } from '../metrics/recorder.ts';

/** A send dispatched more than this after its intended time counts as late. */
export const LATE_THRESHOLD_MS = 10;
const DEFAULT_TIMEOUT_MS = 10_000;
const SERVED_BY = 'x-served-by';

/** Maps a transport error to an error kind (see the SLA grammar's `kind`). */
export function classifyError(err: unknown): string {
  let e: unknown = err;
  for (let depth = 0; e && depth < 4; depth++) {
    const code = (e as { code?: string }).code;
    switch (code) {
      case 'UND_ERR_HEADERS_TIMEOUT':
      case 'UND_ERR_BODY_TIMEOUT':
      case 'UND_ERR_CONNECT_TIMEOUT':
      case 'ETIMEDOUT':
        return 'timeout';
      case 'ECONNREFUSED':
        return 'refused';
      case 'ECONNRESET':
      case 'EPIPE':
      case 'UND_ERR_SOCKET':
      case 'UND_ERR_CLOSED':
        return 'reset';
    }
    if (/timed out/i.test((e as Error).message ?? '')) return 'timeout';
    e = (e as { cause?: unknown }).cause;
  }
  return 'other';
}

function statusKind(status: number): string | undefined {
  return status >= 200 && status < 400 ? undefined : `http_${status}`;
}

/**
 * A fixed interleaving of the workload's requests by weight (weights 3 and 1 give
 * A A B A … spread evenly), the same order for every design, with no randomness to seed.
 */
export function requestCycle(requests: readonly NormalizedRequest[]): NormalizedRequest[] {
  const total = requests.reduce((n, r) => n + r.weight, 0);
  const current = requests.map(() => 0);
  const cycle: NormalizedRequest[] = [];
  // Smooth weighted round robin: every step each request gains its weight, the largest is
  // picked and pays the total.
  for (let step = 0; step < total; step++) {
    let best = 0;
    for (let i = 0; i < requests.length; i++) {
      current[i]! += requests[i]!.weight;
      if (current[i]! > current[best]!) best = i;
    }
    current[best]! -= total;
    cycle.push(requests[best]!);
  }
  return cycle;
}

/**
 * Receives one response from undici and records it when the body has ended: latency from the
 * intended send time (µs), error kind, and which process answered. One small object per
 * request, with its methods on the prototype, keeps the hot path lean.
 */
class ResponseRecorder implements Dispatcher.DispatchHandler {
  private status = 0;
  private servedBy: string | undefined;
  private readonly recorder: Recorder;
  private readonly op: string;
  private readonly intendedMs: number;
  private readonly done: () => void;
  private readonly key: string | undefined;

  constructor(recorder: Recorder, op: string, intendedMs: number, done: () => void, key: string | undefined) {
    this.recorder = recorder;
    this.op = op;
    this.intendedMs = intendedMs;
    this.done = done;
    this.key = key;
  }

  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    const h = headers[SERVED_BY];
    this.servedBy = Array.isArray(h) ? h[0] : h;
  }

  onResponseData(): void {}

  onResponseEnd(): void {
    const errorKind = statusKind(this.status);
    this.recorder.recordResponse(this.op, Math.round((performance.now() - this.intendedMs) * 1000), errorKind, this.servedBy);
    if (this.key !== undefined && errorKind === undefined && this.servedBy !== undefined) this.recorder.recordKey(this.key, this.servedBy);
    this.done();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.recorder.recordFailure(this.op, classifyError(err));
    this.done();
  }
}

/** Hands out keys 0, 1, … keys-1 in turn for each request of the workload that has keys. */
class KeyCounter {
  private readonly next = new Map<NormalizedRequest, number>();

  /** The path to send and its key (undefined for a request without keys). */
  take(req: NormalizedRequest): { path: string; key: string | undefined } {
    if (req.keys === undefined) return { path: req.path, key: undefined };
    const n = this.next.get(req) ?? 0;
    this.next.set(req, n + 1);
    const key = String(n % req.keys);
    return { path: req.path.replace('{key}', key), key };
  }
}

/** Sends one request; it records into the recorder current now, at its intended time. */
function dispatchOne(pool: Pool, req: NormalizedRequest, keys: KeyCounter, timeoutMs: number, slot: RecorderSlot, intendedMs: number, done: () => void): void {
  const { path, key } = keys.take(req);
  pool.dispatch(
    { path, method: req.method, headers: req.headers, body: req.body, headersTimeout: timeoutMs, bodyTimeout: timeoutMs },
    new ResponseRecorder(slot.recorder, req.name, intendedMs, done, key),
  );
}

interface DriverTarget {
  url: string;
  /** When the measured window ends, on the performance.now() clock; no send is due after it. */
  endMs: number;
  /** Warm-up length before the measured window (ms): the schedule's ramps start after it. */
  warmupMs: number;
}

/** Creates the driver for an HTTP workload against `target.url`. */
export function createHttpDriver(workload: HttpWorkload, target: DriverTarget): LoadDriver {
  const timeoutMs = parseDuration(workload.timeout ?? '10s') ?? DEFAULT_TIMEOUT_MS;
  const cycle = requestCycle(normalizeRequests(workload));
  if (workload.model === 'open') return new OpenHttpDriver(workload, target, cycle, timeoutMs);
  if (workload.engine === 'autocannon') return new AutocannonDriver(workload.connections, target, cycle, timeoutMs);
  return new ClosedHttpDriver(workload.connections, target, cycle, timeoutMs);
}

class InFlight {
  count = 0;
  private waiters: (() => void)[] = [];
  readonly done = () => {
    this.count--;
    if (this.count === 0) for (const w of this.waiters.splice(0)) w();
  };
  drained(boundMs: number): Promise<void> {
    if (this.count === 0) return Promise.resolve();
    return new Promise((resolve) => {
      const t = setTimeout(resolve, boundMs);
      this.waiters.push(() => { clearTimeout(t); resolve(); });
    });
  }
}

/** What every HTTP driver holds: its target, its request cycle, its timeout and its connection count. */
abstract class HttpDriverBase {
  readonly connections: number;
  protected readonly target: DriverTarget;
  protected readonly cycle: NormalizedRequest[];
  protected readonly timeoutMs: number;

  constructor(connections: number, target: DriverTarget, cycle: NormalizedRequest[], timeoutMs: number) {
    this.connections = connections;
    this.target = target;
    this.cycle = cycle;
    this.timeoutMs = timeoutMs;
  }
}

/** A driver on an undici pool of up to `connections` keep-alive connections, one request in flight on each. */
abstract class UndiciDriver extends HttpDriverBase {
  protected readonly pool: Pool;
  protected readonly inFlight = new InFlight();
  protected readonly keys = new KeyCounter();

  constructor(connections: number, target: DriverTarget, cycle: NormalizedRequest[], timeoutMs: number) {
    super(connections, target, cycle, timeoutMs);
    this.pool = new Pool(target.url, { connections, pipelining: 1, keepAliveTimeout: 30_000 });
  }

  async close(): Promise<void> {
    await this.pool.destroy().catch(() => {});
  }
}

/** Open model: sends at scheduled times whatever the target does; latency from the schedule. */
class OpenHttpDriver extends UndiciDriver implements LoadDriver {
  readonly model = 'open' as const;
  readonly targetRate: number;
  private readonly schedule: ArrivalSchedule;
  private readonly maxInFlight: number;
  private timer: NodeJS.Timeout | undefined;
  private stopped = false;

  constructor(w: Extract<HttpWorkload, { model: 'open' }>, target: DriverTarget, cycle: NormalizedRequest[], timeoutMs: number) {
    super(w.connections ?? 256, target, cycle, timeoutMs);
    this.targetRate = w.rate;
    this.maxInFlight = w.maxInFlight ?? 10_000;
    this.schedule = new ArrivalSchedule(w.rate, target.warmupMs, (w.stages ?? []).map((s) => ({ durationMs: parseDuration(s.duration)!, target: s.target })));
  }

  start(slot: RecorderSlot): void {
    const origin = performance.now();
    let k = 0;
    const pump = () => {
      this.timer = undefined;
      if (this.stopped) return;
      const now = performance.now();
      for (;;) {
        const due = origin + this.schedule.timeOf(k);
        if (due > now || due >= this.target.endMs) break;
        k++;
        if (this.inFlight.count >= this.maxInFlight) {
          slot.recorder.noteDropped();
          continue;
        }
        slot.recorder.noteSend(now - due, LATE_THRESHOLD_MS);
        this.inFlight.count++;
        dispatchOne(this.pool, this.cycle[k % this.cycle.length]!, this.keys, this.timeoutMs, slot, due, this.inFlight.done);
      }
      const next = origin + this.schedule.timeOf(k);
      if (next >= this.target.endMs) return;
      this.timer = setTimeout(pump, Math.max(0, next - performance.now()));
    };
    pump();
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    await this.inFlight.drained(this.timeoutMs + 1000);
  }
}

/** Closed model on undici: `connections` loops, each sending its next request when the last answered. */
class ClosedHttpDriver extends UndiciDriver implements LoadDriver {
  readonly model = 'closed' as const;
  private stopped = false;

  start(slot: RecorderSlot): void {
    let k = 0;
    const loop = () => {
      if (this.stopped || performance.now() >= this.target.endMs) {
        this.inFlight.done();
        return;
      }
      const now = performance.now();
      slot.recorder.noteSend(0, LATE_THRESHOLD_MS);
      dispatchOne(this.pool, this.cycle[k++ % this.cycle.length]!, this.keys, this.timeoutMs, slot, now, () => {
        // A new turn of the event loop per request, so a fast error (refused) cannot recurse.
        setImmediate(loop);
      });
    };
    for (let c = 0; c < this.connections; c++) {
      this.inFlight.count++;
      loop();
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    await this.inFlight.drained(this.timeoutMs + 1000);
  }
}

/** Closed model on autocannon's HTTP client, recording its per-response times in µs. */
class AutocannonDriver extends HttpDriverBase implements LoadDriver {
  readonly model = 'closed' as const;
  private instance: autocannon.Instance | undefined;
  private finished: Promise<void> = Promise.resolve();

  start(slot: RecorderSlot): void {
    const seconds = Math.max(1, Math.ceil((this.target.endMs - performance.now()) / 1000) + 1);
    const requests = this.cycle.map((r) => ({ method: r.method, path: r.path, headers: r.headers, body: r.body }));
    // The schema allows this engine a single request only, so every response is that operation.
    const op = this.cycle[0]!.name;
    let finish: () => void = () => {};
    this.finished = new Promise((resolve) => (finish = resolve));
    const instance = autocannon(
      {
        url: this.target.url,
        connections: this.connections,
        duration: seconds,
        timeout: Math.ceil(this.timeoutMs / 1000),
        requests: requests as autocannon.Request[],
      },
      () => finish(),
    );
    this.instance = instance;
    // autocannon hands its response time in fractional ms: keep the µs it measured.
    instance.on('response', (_client: unknown, statusCode: number, _bytes: number, responseTimeMs: number) => {
      slot.recorder.noteSend(0, LATE_THRESHOLD_MS);
      slot.recorder.recordResponse(op, Math.round(responseTimeMs * 1000), statusKind(statusCode), undefined);
    });
    instance.on('reqError', (err: Error) => {
      slot.recorder.noteSend(0, LATE_THRESHOLD_MS);
      slot.recorder.recordFailure(op, classifyError(err));
    });
    const stopAt = setTimeout(() => instance.stop(), Math.max(0, this.target.endMs - performance.now()));
    void this.finished.then(() => clearTimeout(stopAt));
  }

  async stop(): Promise<void> {
    this.instance?.stop();
    await this.finished;
  }

  async close(): Promise<void> {}
}
