// A lean gRPC client on node:http2 (the `http2` engine of the rpc workload's gRPC adapter): the
// wire protocol of grpc/grpc doc/PROTOCOL-HTTP2.md for unary and server-streaming calls, with
// requests encoded once by the adapter. It does per call what grpc-js does in many layers
// (resolver, load balancer, filters, interceptors), so a closed loop on one connection costs
// the load generator about half the CPU; the connection semantics stay grpc-js's: one HTTP/2
// connection per channel, reconnected after a failure with exponential back-off, calls in the
// meantime failing fast with UNAVAILABLE.
import http2, { type ClientHttp2Session, type ClientHttp2Stream, type IncomingHttpHeaders } from 'node:http2';
import { gunzipSync } from 'node:zlib';
import type { Endpoint } from '../../base/endpoint.ts';

/** gRPC status codes the engine itself produces. */
export const GRPC_CANCELLED = 1;
export const GRPC_UNKNOWN = 2;
export const GRPC_DEADLINE_EXCEEDED = 4;
export const GRPC_RESOURCE_EXHAUSTED = 8;
export const GRPC_UNIMPLEMENTED = 12;
export const GRPC_INTERNAL = 13;
export const GRPC_UNAVAILABLE = 14;
export const GRPC_UNAUTHENTICATED = 16;
export const GRPC_PERMISSION_DENIED = 7;

/** grpc-js's connection back-off: 1 s first, × 1.6 per failure, at most 120 s (grpc/grpc doc/connection-backoff.md, without jitter). */
const BACKOFF_FIRST_MS = 1000;
const BACKOFF_MAX_MS = 120_000;
const BACKOFF_MULTIPLIER = 1.6;
/** A keep-alive PING not answered within this long closes the connection (grpc-js's `grpc.keepalive_timeout_ms` default). */
const KEEPALIVE_TIMEOUT_MS = 20_000;
/** Largest message accepted (grpc-js's default receive limit). */
const MAX_MESSAGE = 4 * 1024 * 1024;

/**
 * The status of a call that ended without gRPC's own (grpc/grpc doc/http-grpc-status-mapping.md):
 * from the HTTP status of an answer that was not gRPC.
 */
export function statusOfHttp(httpStatus: number): number {
  switch (httpStatus) {
    case 400:
      return GRPC_INTERNAL;
    case 401:
      return GRPC_UNAUTHENTICATED;
    case 403:
      return GRPC_PERMISSION_DENIED;
    case 404:
      return GRPC_UNIMPLEMENTED;
    case 429:
    case 502:
    case 503:
    case 504:
      return GRPC_UNAVAILABLE;
    default:
      return GRPC_UNKNOWN;
  }
}

/** The status of a stream reset before a gRPC status arrived, by its HTTP/2 error code (the same document's table). */
export function statusOfReset(rstCode: number): number {
  const c = http2.constants;
  if (rstCode === c.NGHTTP2_REFUSED_STREAM) return GRPC_UNAVAILABLE;
  if (rstCode === c.NGHTTP2_CANCEL) return GRPC_CANCELLED;
  if (rstCode === c.NGHTTP2_ENHANCE_YOUR_CALM) return GRPC_RESOURCE_EXHAUSTED;
  if (rstCode === c.NGHTTP2_INADEQUATE_SECURITY) return GRPC_PERMISSION_DENIED;
  return GRPC_INTERNAL;
}

/** A gRPC message with its 5-byte prefix (not compressed), as it goes on the wire. */
export function grpcFrame(message: Buffer): Buffer {
  const frame = Buffer.allocUnsafe(5 + message.length);
  frame[0] = 0;
  frame.writeUInt32BE(message.length, 1);
  message.copy(frame, 5);
  return frame;
}

/**
 * Splits a stream's DATA into gRPC messages across chunk boundaries; a compressed message
 * (flag 1) is gunzipped. Throws on a message over the receive limit or an unknown flag.
 */
export class MessageReader {
  private pending: Buffer | undefined;

  /** The whole messages `chunk` completes, in order. */
  push(chunk: Buffer, each: (message: Buffer) => void): void {
    let buf = this.pending ? Buffer.concat([this.pending, chunk]) : chunk;
    this.pending = undefined;
    while (buf.length >= 5) {
      const flag = buf[0]!;
      const length = buf.readUInt32BE(1);
      if (length > MAX_MESSAGE) throw new Error(`a message of ${length} bytes, over the ${MAX_MESSAGE}-byte limit`);
      if (buf.length < 5 + length) break;
      const body = buf.subarray(5, 5 + length);
      if (flag === 0) each(body);
      else if (flag === 1) each(gunzipSync(body));
      else throw new Error(`a message with compressed-flag ${flag}`);
      buf = buf.subarray(5 + length);
    }
    if (buf.length > 0) this.pending = Buffer.from(buf);
  }

  /** Bytes of a message begun and not finished. */
  get partial(): number {
    return this.pending?.length ?? 0;
  }
}

/** What a call tells its owner as it goes. */
export interface CallEvents {
  /** The answer's headers came; `servedBy` is the `x-served-by` metadata, if any. */
  served(servedBy: string | undefined): void;
  /** One message of the answer, raw (decode it yourself). */
  message(body: Buffer): void;
  /** The call ended with this gRPC status (0: OK); called once. */
  ended(code: number): void;
}

/** One channel: one HTTP/2 connection to one address, opened on first use and again after it closed. */
export class Http2Channel {
  readonly target: string;
  private readonly url: string;
  private readonly keepAliveMs: number | undefined;
  private session: ClientHttp2Session | undefined;
  private waiting: ((s: ClientHttp2Session | undefined) => void)[] = [];
  /** No new connection is tried before this time (performance.now() ms): the back-off after a failed one. */
  private retryAtMs = 0;
  private backoffMs = BACKOFF_FIRST_MS;
  private closed = false;

  constructor(ep: Endpoint, opts: { keepAliveMs?: number } = {}) {
    this.target = ep.host.includes(':') ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
    this.url = `http://${this.target}`;
    this.keepAliveMs = opts.keepAliveMs;
  }

  /** The open connection, or undefined (failed, or in back-off); opens one when there is none. */
  private withSession(cb: (s: ClientHttp2Session | undefined) => void): void {
    const s = this.session;
    if (s && !s.closed && !s.destroyed) return cb(s);
    if (this.closed || performance.now() < this.retryAtMs) return cb(undefined);
    this.waiting.push(cb);
    if (this.waiting.length === 1) this.open();
  }

  private open(): void {
    const s = http2.connect(this.url, { settings: { enablePush: false } });
    let up = false;
    let pinger: NodeJS.Timeout | undefined;
    const flush = (to: ClientHttp2Session | undefined) => {
      const waiting = this.waiting;
      this.waiting = [];
      for (const cb of waiting) cb(to);
    };
    s.once('connect', () => {
      up = true;
      this.backoffMs = BACKOFF_FIRST_MS;
      if (this.closed) {
        s.close();
        return flush(undefined);
      }
      this.session = s;
      if (this.keepAliveMs !== undefined) pinger = this.keepAlive(s, this.keepAliveMs);
      flush(s);
    });
    // A GOAWAY lets the calls on it finish; new ones open a new connection.
    s.once('goaway', () => {
      if (this.session === s) this.session = undefined;
    });
    // 'close' follows every error.
    s.on('error', () => {});
    s.once('close', () => {
      if (pinger) clearInterval(pinger);
      if (this.session === s) this.session = undefined;
      if (!up) {
        this.retryAtMs = performance.now() + this.backoffMs;
        this.backoffMs = Math.min(this.backoffMs * BACKOFF_MULTIPLIER, BACKOFF_MAX_MS);
        flush(undefined);
      }
    });
  }

  /** PINGs every `everyMs`; one not answered within 20 s destroys the connection, as grpc-js's keep-alive does. */
  private keepAlive(s: ClientHttp2Session, everyMs: number): NodeJS.Timeout {
    const t = setInterval(() => {
      const timeout = setTimeout(() => s.destroy(), KEEPALIVE_TIMEOUT_MS);
      timeout.unref();
      if (!s.ping((err) => (err ? s.destroy() : clearTimeout(timeout)))) clearTimeout(timeout);
    }, everyMs);
    t.unref();
    return t;
  }

  /** Connects now; rejects when no connection is up before `deadlineMs` (Date.now() ms). */
  ready(deadlineMs: number): Promise<void> {
    this.retryAtMs = 0;
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => reject(new Error('timed out')), Math.max(0, deadlineMs - Date.now()));
      const attempt = () =>
        this.withSession((s) => {
          if (s) {
            clearTimeout(timer);
            resolve();
          } else if (Date.now() < deadlineMs && !this.closed) {
            // Refused: try again in a while, within the deadline.
            this.retryAtMs = 0;
            setTimeout(attempt, 100);
          } else {
            clearTimeout(timer);
            reject(new Error('refused'));
          }
        });
      attempt();
    });
  }

  /**
   * Starts a call: `frame` is the request with its prefix, `path` the method's, `deadlineMs`
   * (Date.now() ms) both sent as `grpc-timeout` and enforced here (the call is cancelled then).
   */
  call(path: string, frame: Buffer, deadlineMs: number, events: CallEvents): void {
    this.withSession((s) => {
      if (!s) return events.ended(GRPC_UNAVAILABLE);
      const left = deadlineMs - Date.now();
      if (left <= 0) return events.ended(GRPC_DEADLINE_EXCEEDED);
      let stream: ClientHttp2Stream;
      try {
        stream = s.request({
          ':method': 'POST',
          ':path': path,
          'content-type': 'application/grpc',
          te: 'trailers',
          'grpc-timeout': `${Math.ceil(left)}m`,
          'grpc-accept-encoding': 'identity,gzip',
        });
      } catch {
        return events.ended(GRPC_UNAVAILABLE);
      }
      new Http2Call(s, stream, left, events).send(frame);
    });
  }

  /** Closes the connection once its calls ended; no new one is opened after this. */
  close(): void {
    this.closed = true;
    this.session?.close();
    this.session = undefined;
  }
}

/** One call's stream: its answer's headers, messages and status. */
class Http2Call {
  private readonly session: ClientHttp2Session;
  private readonly stream: ClientHttp2Stream;
  private readonly events: CallEvents;
  private readonly reader = new MessageReader();
  private readonly timer: NodeJS.Timeout;
  private httpStatus: number | undefined;
  private status: number | undefined;
  private done = false;

  constructor(session: ClientHttp2Session, stream: ClientHttp2Stream, leftMs: number, events: CallEvents) {
    this.session = session;
    this.stream = stream;
    this.events = events;
    this.timer = setTimeout(() => this.end(GRPC_DEADLINE_EXCEEDED, http2.constants.NGHTTP2_CANCEL), leftMs);
    stream.on('response', (h) => this.headers(h));
    stream.on('data', (chunk: Buffer) => this.data(chunk));
    stream.on('trailers', (h) => this.trailers(h));
    // 'close' follows every error.
    stream.on('error', () => {});
    stream.on('close', () => this.closed());
  }

  send(frame: Buffer): void {
    this.stream.end(frame);
  }

  private headers(h: IncomingHttpHeaders): void {
    this.httpStatus = Number(h[':status']);
    const by = h['x-served-by'];
    this.events.served(typeof by === 'string' ? by : undefined);
    // Trailers-Only: an answer with no messages carries its status in its headers.
    this.trailers(h);
  }

  private data(chunk: Buffer): void {
    if (this.done) return;
    try {
      this.reader.push(chunk, (m) => this.events.message(m));
    } catch {
      this.end(GRPC_INTERNAL, http2.constants.NGHTTP2_CANCEL);
    }
  }

  private trailers(h: IncomingHttpHeaders): void {
    const s = h['grpc-status'];
    if (typeof s === 'string') this.status = Number(s);
  }

  private closed(): void {
    if (this.done) return;
    let code: number;
    if (this.status !== undefined) code = this.reader.partial > 0 && this.status === 0 ? GRPC_INTERNAL : this.status;
    else if (this.httpStatus !== undefined && this.httpStatus !== 200) code = statusOfHttp(this.httpStatus);
    // The connection went before the call had its status: the server is gone.
    else if (this.session.destroyed || this.session.closed) code = GRPC_UNAVAILABLE;
    else if (this.stream.rstCode !== undefined && this.stream.rstCode !== http2.constants.NGHTTP2_NO_ERROR) code = statusOfReset(this.stream.rstCode);
    else code = GRPC_UNAVAILABLE;
    this.end(code);
  }

  /** Ends the call once with `code`; `reset` cancels the stream first (deadline, a bad message). */
  private end(code: number, reset?: number): void {
    if (this.done) return;
    this.done = true;
    clearTimeout(this.timer);
    if (reset !== undefined && !this.stream.closed) this.stream.close(reset);
    this.events.ended(code);
  }
}
