import { createRequire } from 'node:module';
import type { Dispatcher, Pool } from 'undici';
import { z } from 'zod';
import { parseDuration } from '../base/duration.ts';
import { endpointText } from '../base/endpoint.ts';
import { idsChecker } from '../checkers/ids.ts';
import type { MetricSink } from '../metrics/sink.ts';
import { SHARE_TALLY, type Adapter, type DriverContext, type DriverDefinition, type LoadDriver } from './driver.ts';
import { HTTP_ERROR_KINDS } from './http-driver.ts';
import { idsWorkloadSchema, type IdsWorkload } from './ids-workload.ts';
import { ClosedLoops, OpenPacer, type SendOne } from './pacer.ts';
import { classifyError } from './transport-errors.ts';

/** Counters of the `ids` workload. */
export const IDS_ISSUED = 'ids_issued';
export const SEQUENCE_WAITS = 'sequence_waits';
export const CLOCK_WAITS = 'clock_waits';

/** The error codes an ID service answers a refusal with (503), as error kinds. */
const REFUSALS: Record<string, string> = { 'clock-moved-back': 'id_refused', 'counter-unavailable': 'counter_unavailable' };

const require = createRequire(import.meta.url);

/** What an ID service answers a call with. */
interface IdsAnswer {
  i: string;
  n: number;
  ids: (string | number)[];
  waits?: { sequence: number; clockBack: number };
}

/**
 * Calls the design's ID service instances in turn (call k goes to instance k mod N), one undici
 * pool per instance, and records each answer: latency from the due time, the IDs in the history
 * with the process that issued them, and the waits the instance reports. IDs are read exactly as
 * the answer's JSON gives them: quoted, they stay exact; bare numbers go through the
 * client's JSON.parse, as in any JavaScript client.
 */
class IdsClient {
  private readonly pools: Pool[];
  private readonly path: string;
  private readonly timeoutMs: number;
  private readonly sink: MetricSink;

  constructor(urls: string[], connections: number, batch: number, timeoutMs: number, sink: MetricSink) {
    const { Pool } = require('undici') as typeof import('undici');
    this.pools = urls.map((url) => new Pool(url, { connections, keepAliveTimeout: 30_000 }));
    this.path = `/ids?n=${batch}`;
    this.timeoutMs = timeoutMs;
    this.sink = sink;
  }

  /** The layout of the IDs (how to read their time), asked of the first instance. */
  async layout(): Promise<unknown> {
    const res = await this.pools[0]!.request({ path: '/layout', method: 'GET', headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs });
    if (res.statusCode !== 200) throw new Error(`GET /layout answered ${res.statusCode}: ${await res.body.text()}`);
    return ((await res.body.json()) as { layout: unknown }).layout;
  }

  readonly send: SendOne = (k, dueMs, done) => {
    this.pools[k % this.pools.length]!.dispatch({ path: this.path, method: 'GET', headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs }, new AnswerReader(this, dueMs, done));
  };

  /** One answer, read whole: its IDs, or its error kind. */
  answered(status: number, servedBy: string | undefined, text: string, dueMs: number): void {
    const now = performance.now();
    if (servedBy !== undefined) this.sink.tally(SHARE_TALLY, servedBy, dueMs);
    if (status === 200) this.record(text, dueMs, now);
    else this.sink.op('ids', dueMs, Math.round((now - dueMs) * 1000), refusal(status, text));
  }

  failed(err: unknown, dueMs: number): void {
    this.sink.failed('ids', dueMs, classifyError(err));
  }

  private record(text: string, dueMs: number, now: number): void {
    const a = JSON.parse(text) as IdsAnswer;
    this.sink.op('ids', dueMs, Math.round((now - dueMs) * 1000), 'ok');
    const ids = a.ids.map(String);
    this.sink.history(now, { ev: 'ids', i: a.i, ids, n: a.n, w: Date.now() });
    this.sink.count(IDS_ISSUED, dueMs, ids.length);
    if (a.waits?.sequence) this.sink.count(SEQUENCE_WAITS, dueMs);
    if (a.waits?.clockBack) this.sink.count(CLOCK_WAITS, dueMs);
  }

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy().catch(() => {})));
  }
}

/**
 * Collects one answer's body from undici's dispatcher (no stream per call: the least client
 * work per call, so the load generator is not what limits a fast generator).
 */
class AnswerReader implements Dispatcher.DispatchHandler {
  private status = 0;
  private servedBy: string | undefined;
  private readonly chunks: Buffer[] = [];
  private readonly client: IdsClient;
  private readonly dueMs: number;
  private readonly done: () => void;

  constructor(client: IdsClient, dueMs: number, done: () => void) {
    this.client = client;
    this.dueMs = dueMs;
    this.done = done;
  }

  onRequestStart(): void {}

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    const h = headers['x-served-by'];
    this.servedBy = Array.isArray(h) ? h[0] : h;
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    this.chunks.push(chunk);
  }

  onResponseEnd(): void {
    try {
      const body = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks);
      this.client.answered(this.status, this.servedBy, body.toString('latin1'), this.dueMs);
    } catch (err) {
      this.client.failed(err, this.dueMs);
    }
    this.done();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.client.failed(err, this.dueMs);
    this.done();
  }
}

/** The error kind of a non-200 answer: a refusal the service names, else `http_<status>`. */
function refusal(status: number, text: string): string {
  if (status === 503) {
    try {
      const kind = REFUSALS[(JSON.parse(text) as { error?: string }).error ?? ''];
      if (kind) return kind;
    } catch {
      // not JSON: fall through to the status
    }
  }
  return `http_${status}`;
}

function createIdsDriver(workload: IdsWorkload, ctx: DriverContext<Record<string, never>>): LoadDriver {
  const timeoutMs = parseDuration(workload.timeout ?? '10s')!;
  const urls = ctx.entry.endpoints.map((e) => endpointText('http', e));
  const perInstance = workload.model === 'open' ? workload.connections ?? 64 : Math.ceil(workload.connections / urls.length);
  const client = new IdsClient(urls, perInstance, workload.batch ?? 1, timeoutMs, ctx.sink);
  const boundMs = timeoutMs + 1000;
  let layout: unknown;
  const common = {
    connections: perInstance * urls.length,
    prepare: async () => {
      layout = await client.layout();
    },
    close: () => client.close(),
  };
  // Every instance of a design runs the same generator: one layout record serves them all.
  const writeLayout = () => ctx.sink.history(performance.now(), { ev: 'id-layout', layout });
  if (workload.model === 'open') {
    const pacer = new OpenPacer(workload, { sink: ctx.sink, send: client.send });
    return {
      ...common,
      model: 'open',
      targetRate: pacer.targetRate,
      start: (window) => {
        writeLayout();
        pacer.start(window);
      },
      stop: () => pacer.stop(boundMs),
    };
  }
  const loops = new ClosedLoops(workload.connections, { sink: ctx.sink, send: client.send });
  return {
    ...common,
    model: 'closed',
    start: (window) => {
      writeLayout();
      loops.start(window);
    },
    stop: () => loops.stop(boundMs),
  };
}

const idsHttpAdapter: Adapter<IdsWorkload, Record<string, never>> = { client: z.strictObject({}), create: createIdsDriver };

/** The `ids` workload kind: calls for IDs against every instance of an ID service; every ID is kept and checked. */
export const idsDriver: DriverDefinition<IdsWorkload> = {
  description: 'calls for IDs (one or a batch per call) against ID service instances; every ID kept and checked for duplicates, order and drift',
  workload: idsWorkloadSchema,
  wording: { one: 'call', many: 'calls' },
  vocabulary: {
    errorKinds: [
      ...HTTP_ERROR_KINDS,
      { name: 'id_refused', description: 'the generator refused to issue IDs because its clock moved back (503 clock-moved-back)' },
      { name: 'counter_unavailable', description: "the generator's Redis counter could not be reached (503 counter-unavailable)" },
    ],
    counters: {
      [IDS_ISSUED]: { description: 'IDs received in answers', better: 'higher' },
      [SEQUENCE_WAITS]: { description: 'calls that waited for the next time unit because its sequence ran out (4,096 IDs in one ms for snowflake)', better: 'lower' },
      [CLOCK_WAITS]: { description: 'calls that waited for the clock to come back to the last time unit issued in (clock-back policy wait)', better: 'lower' },
    },
    tallies: { [SHARE_TALLY]: { description: 'calls per instance (x-served-by)' } },
  },
  adapters: { http: idsHttpAdapter },
  checkers: [idsChecker()],
  keepsHistory: () => true,
};
