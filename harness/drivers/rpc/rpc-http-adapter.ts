import { createRequire } from 'node:module';
import { createGunzip, gunzipSync, type Gunzip } from 'node:zlib';
import type { Dispatcher, Pool } from 'undici';
import { z } from 'zod';
import { endpointText } from '../../base/endpoint.ts';
import type { MetricSink } from '../../metrics/sink.ts';
import type { Adapter, DriverContext, LoadDriver } from '../driver.ts';
import type { SendOne } from '../pacer.ts';
import { classifyError } from '../transport-errors.ts';
import { CallPicker, pacedDriver, recordAnswer, recordCall, type ItemTimes } from './rpc-load.ts';
import { deadlineMs, normalizeCalls, type RpcCall, type RpcWorkload } from './rpc-workload.ts';

// Loaded when a design's load is created, so listing or validating scenarios never loads it.
const require = createRequire(import.meta.url);

const SERVED_BY = 'x-served-by';
const NEWLINE = 0x0a;

/** One call as JSON over HTTP/1.1: its request, made once. */
interface HttpCall {
  call: RpcCall;
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
  stream: boolean;
}

/** The request of each method, as the recipe service's JSON/HTTP routes take it. Every request accepts a gzipped answer. */
export function httpRequestOf(call: RpcCall): HttpCall {
  const headers: Record<string, string> = { 'accept-encoding': 'gzip' };
  switch (call.method) {
    case 'GetRecipe':
      return { call, method: 'GET', path: `/recipes/${call.args.id}?size=${call.args.size}`, headers, stream: false };
    case 'Work':
      return { call, method: 'POST', path: '/work', headers: { ...headers, 'content-type': 'application/json' }, body: JSON.stringify(call.args), stream: false };
    case 'ListRecipes': {
      const { count, size, intervalMs } = call.args;
      return { call, method: 'GET', path: `/recipes?count=${count}&size=${size}&intervalMs=${intervalMs}`, headers, stream: true };
    }
  }
}

/** An undici pool per instance; each kind of call goes to the instances in turn. */
class HttpRpcClient {
  private readonly pools: Pool[];
  private readonly picker: CallPicker<Pool>;
  private readonly requests: HttpCall[];
  readonly timeoutMs: number;
  readonly sink: MetricSink;
  readonly keepAnswers: boolean;

  constructor(urls: string[], connections: number, workload: RpcWorkload, sink: MetricSink) {
    const { Pool } = require('undici') as typeof import('undici');
    this.pools = urls.map((url) => new Pool(url, { connections, keepAliveTimeout: 30_000 }));
    const calls = normalizeCalls(workload);
    this.requests = calls.map(httpRequestOf);
    this.picker = new CallPicker(calls, () => this.pools);
    this.timeoutMs = deadlineMs(workload);
    this.sink = sink;
    this.keepAnswers = workload.keepAnswers ?? false;
  }

  readonly send: SendOne = (k, dueMs, done) => {
    const { index, target } = this.picker.take(k);
    const r = this.requests[index]!;
    // undici's own timeouts tick in half seconds: they only back up the call's deadline timer.
    target.dispatch(
      { path: r.path, method: r.method, headers: r.headers, ...(r.body !== undefined ? { body: r.body } : {}), headersTimeout: this.timeoutMs, bodyTimeout: this.timeoutMs },
      new HttpAnswer(this, r, dueMs, done),
    );
  };

  async close(): Promise<void> {
    await Promise.all(this.pools.map((p) => p.destroy().catch(() => {})));
  }
}

/**
 * One answer from undici's dispatcher: its status and who served it; for a stream, each JSON
 * line as it arrives (after gunzip when the answer is compressed), so the first item's time is
 * when its line came, not when the stream ended. The body is kept only with `keepAnswers`.
 */
class HttpAnswer implements Dispatcher.DispatchHandler {
  private status = 0;
  private servedBy: string | undefined;
  private gzipped = false;
  private gunzip: Gunzip | undefined;
  /** The stream's gunzip failed (a corrupt answer): the call fails when the answer ends. */
  private broken: Error | undefined;
  private readonly chunks: Buffer[] = [];
  private readonly items: ItemTimes | undefined;
  private readonly client: HttpRpcClient;
  private readonly request: HttpCall;
  private readonly dueMs: number;
  private readonly done: () => void;
  private controller: Dispatcher.DispatchController | undefined;
  private readonly deadline: NodeJS.Timeout;
  private expired = false;
  private settled = false;

  constructor(client: HttpRpcClient, request: HttpCall, dueMs: number, done: () => void) {
    this.client = client;
    this.request = request;
    this.dueMs = dueMs;
    this.done = done;
    if (request.stream) this.items = { items: 0 };
    this.deadline = setTimeout(this.expire, client.timeoutMs);
  }

  /** The deadline passed: the call is aborted (over HTTP/1.1 that closes its connection) and fails as a `timeout`. */
  private readonly expire = (): void => {
    this.expired = true;
    this.controller?.abort(deadlineExceeded(this.client.timeoutMs));
  };

  onRequestStart(controller: Dispatcher.DispatchController): void {
    this.controller = controller;
    // Queued in the pool past its deadline: it never leaves.
    if (this.expired) controller.abort(deadlineExceeded(this.client.timeoutMs));
  }

  onResponseStart(_c: Dispatcher.DispatchController, statusCode: number, headers: Record<string, string | string[] | undefined>): void {
    this.status = statusCode;
    const by = headers[SERVED_BY];
    this.servedBy = Array.isArray(by) ? by[0] : by;
    this.gzipped = headers['content-encoding'] === 'gzip';
    if (this.items && this.gzipped && statusCode === 200) {
      const gunzip = (this.gunzip = createGunzip());
      gunzip.on('data', (out: Buffer) => this.lines(out));
      gunzip.on('error', (err) => (this.broken ??= err));
    }
  }

  onResponseData(_c: Dispatcher.DispatchController, chunk: Buffer): void {
    if (this.client.keepAnswers) this.chunks.push(chunk);
    if (!this.items || this.status !== 200) return;
    if (this.gunzip) this.gunzip.write(chunk);
    else this.lines(chunk);
  }

  onResponseEnd(): void {
    const gunzip = this.gunzip;
    if (!gunzip) return this.finish();
    if (this.broken) return this.fail(this.broken);
    gunzip.once('end', () => this.finish());
    gunzip.once('error', (err) => this.fail(err));
    gunzip.end();
  }

  onResponseError(_c: Dispatcher.DispatchController, err: Error): void {
    this.gunzip?.destroy();
    this.fail(err);
  }

  /** Counts the items whose line ended in this chunk of the (uncompressed) stream. */
  private lines(chunk: Buffer): void {
    const items = this.items!;
    let at = chunk.indexOf(NEWLINE);
    if (at < 0) return;
    const now = performance.now();
    items.firstMs ??= now;
    items.lastMs = now;
    for (; at >= 0; at = chunk.indexOf(NEWLINE, at + 1)) items.items++;
  }

  private finish(): void {
    if (!this.settle()) return;
    const { sink, keepAnswers } = this.client;
    const call = this.request.call;
    const ok = this.status >= 200 && this.status < 400;
    recordCall(sink, call, this.dueMs, ok ? 'ok' : `http_${this.status}`, true, this.servedBy, this.items);
    if (ok && keepAnswers) {
      try {
        recordAnswer(sink, call, 'http', this.servedBy, this.decoded());
      } catch (err) {
        recordAnswer(sink, call, 'http', this.servedBy, { error: err instanceof Error ? err.message : String(err) });
      }
    }
    this.done();
  }

  /** The answer's document, or a stream's items, as JSON.parse reads them. */
  private decoded(): { doc: unknown } | { items: unknown[] } {
    const body = Buffer.concat(this.chunks);
    const text = (this.gzipped ? gunzipSync(body) : body).toString('utf8');
    return this.items ? { items: text.split('\n').filter((l) => l !== '').map((l) => JSON.parse(l) as unknown) } : { doc: JSON.parse(text) as unknown };
  }

  /** Marks the call finished; false when it already was (an abort racing the answer's end). */
  private settle(): boolean {
    if (this.settled) return false;
    this.settled = true;
    clearTimeout(this.deadline);
    return true;
  }

  private fail(err: unknown): void {
    if (!this.settle()) return;
    recordCall(this.client.sink, this.request.call, this.dueMs, classifyError(err), false, this.servedBy, this.items);
    this.done();
  }
}

/** The error an expired call is aborted with; classified as `timeout`. */
function deadlineExceeded(ms: number): Error {
  return Object.assign(new Error(`deadline of ${ms} ms exceeded`), { code: 'ETIMEDOUT' });
}

/** The rpc workload as JSON over HTTP/1.1 (undici), open or closed, spread over the design's instances. */
function createHttpRpcDriver(workload: RpcWorkload, ctx: DriverContext<Record<string, never>>): LoadDriver {
  const urls = ctx.entry.endpoints.map((e) => endpointText('http', e));
  const perInstance = workload.model === 'open' ? workload.connections ?? 64 : Math.ceil(workload.connections / urls.length);
  const client = new HttpRpcClient(urls, perInstance, workload, ctx.sink);
  return pacedDriver(workload, ctx.sink, { connections: perInstance * urls.length, send: client.send, close: () => client.close() }, client.timeoutMs + 1000);
}

/** The rpc workload's HTTP adapter: JSON over HTTP/1.1; it has no client options of its own. */
export const rpcHttpAdapter: Adapter<RpcWorkload, Record<string, never>> = { client: z.strictObject({}), create: createHttpRpcDriver };
