import { connect, type Socket } from 'node:net';
import type { Endpoint } from '../base/endpoint.ts';
import { FaultlineError } from '../errors.ts';
import type { MetricSink } from '../metrics/sink.ts';
import { SHARE_TALLY } from './driver.ts';
import type { NormalizedRequest } from './http-workload.ts';
import type { SendOne } from './pacer.ts';
import { classifyError } from './transport-errors.ts';

const CR = 13;
const LF = 10;
const SP = 32;
const HT = 9;

/** A head (status line and headers) longer than this is refused as malformed (bytes). */
const MAX_HEAD_BYTES = 64 * 1024;

/** Parser states: reading the head, a Content-Length body, the parts of a chunked body, a body that ends with the connection. */
const HEAD = 0;
const BODY_LENGTH = 1;
const CHUNK_SIZE = 2;
const CHUNK_EXT = 3;
const CHUNK_DATA = 4;
const CHUNK_DATA_END = 5;
const TRAILER = 6;
const BODY_EOF = 7;

/** What parseHead returns besides where a head ends. */
const INCOMPLETE = -1;
const MALFORMED = -2;

/** A response the parser cannot read: the connection is closed and the request counts as `other`. */
export class HttpParseError extends Error {
  readonly code = 'HPE_INVALID_RESPONSE';
}

/** Receives each complete response from a {@link ResponseParser}. */
export interface ResponseHandler {
  /**
   * One response has been read to its end: its status, its `x-served-by` value (undefined
   * without one) and whether the connection may carry another request. Return false to stop
   * the parser reading the rest of the bytes it was handed.
   */
  onResponse(status: number, servedBy: string | undefined, keepAlive: boolean): boolean;
}

const lower = (s: string): Uint8Array => Uint8Array.from(s, (c) => c.charCodeAt(0));
const CONTENT_LENGTH = lower('content-length');
const TRANSFER_ENCODING = lower('transfer-encoding');
const CONNECTION = lower('connection');
const SERVED_BY = lower('x-served-by');
const KEEP_ALIVE = lower('keep-alive');
const CLOSE = lower('close');

/** Whether buf[at, at + name.length) spells `name` (lower case ASCII), ignoring the case of letters. */
function sameName(buf: Uint8Array, at: number, name: Uint8Array): boolean {
  for (let i = 0; i < name.length; i++) {
    const t = name[i]!;
    const b = buf[at + i]!;
    if (b !== t && (t < 97 || t > 122 || (b | 0x20) !== t)) return false;
  }
  return true;
}

/** Whether a comma-separated header value holds the token (`close`, `keep-alive`, `chunked`), any case. */
function hasToken(value: string, token: string): boolean {
  return value.toLowerCase().split(',').some((t) => t.trim() === token);
}

/**
 * An incremental HTTP/1.1 response parser, lean enough for a load generator: it reads the
 * status line and the four headers a driver needs (Content-Length, Transfer-Encoding,
 * Connection, x-served-by), skips bodies by Content-Length, by chunked encoding or up to the
 * connection's end, and hands each complete response to its handler. Bytes may arrive split
 * anywhere, and one read may hold the end of one response and the start of the next; it keeps
 * nothing of a read buffer after `execute` returns (a head split across reads is copied).
 */
export class ResponseParser {
  private readonly handler: ResponseHandler;
  private state = HEAD;
  /** Head bytes of earlier reads while a head is split across reads. */
  private pending: Buffer[] = [];
  private pendingBytes = 0;
  /** Head scan carried over reads: bytes in the current line (CR not counted), and whether a line ended. */
  private lineLength = 0;
  private sawLine = false;
  /** Body bytes (Content-Length) or chunk bytes still to skip; after a head, -2 for a chunked body and -1 for one that runs to the connection's end. */
  private remaining = 0;
  private chunkDigits = 0;
  private status = 0;
  private keepAlive = true;
  private servedBy: string | undefined;
  /** The last x-served-by value and its bytes: the same backend answers again and again, so its string is reused. */
  private lastServedBy: string | undefined;
  private lastServedByBytes: Buffer = Buffer.alloc(0);
  /** The next response answers a HEAD request: it has no body whatever its headers say. */
  private headRequest = false;
  /** Why the last head was MALFORMED. */
  private error: HttpParseError | undefined;

  constructor(handler: ResponseHandler) {
    this.handler = handler;
  }

  /** Declares that the next response answers a HEAD request (no body). */
  expectHeadResponse(): void {
    this.headRequest = true;
  }

  /** Whether the parser is between responses, with no byte of the next one read. */
  get idle(): boolean {
    return this.state === HEAD && this.pendingBytes === 0 && this.lineLength === 0 && !this.sawLine;
  }

  /** Reads buf[start, end). Returns an error when the bytes are not an HTTP/1.x response; the parser is then unusable. */
  execute(buf: Buffer, start: number, end: number): HttpParseError | undefined {
    let p = start;
    while (p < end) {
      switch (this.state) {
        case HEAD: {
          let headEnd: number;
          if (this.pendingBytes === 0) {
            // The usual case: the whole head is in this read, parsed in one pass where it lies.
            headEnd = this.parseHead(buf, p, end);
            if (headEnd === INCOMPLETE) {
              this.scanHead(buf, p, end);
              return this.keep(buf, p, end);
            }
          } else {
            const at = this.scanHead(buf, p, end);
            if (at < 0) return this.keep(buf, p, end);
            this.pending.push(buf.subarray(p, at));
            const head = Buffer.concat(this.pending);
            this.pending = [];
            this.pendingBytes = 0;
            if (this.parseHead(head, 0, head.length) < 0) return this.error ?? new HttpParseError('malformed response head');
            headEnd = at;
          }
          if (headEnd === MALFORMED) return this.error;
          p = headEnd;
          if (!this.startBody()) return undefined;
          break;
        }
        case BODY_LENGTH: {
          const n = Math.min(this.remaining, end - p);
          p += n;
          this.remaining -= n;
          if (this.remaining === 0 && !this.complete()) return undefined;
          break;
        }
        case CHUNK_SIZE: {
          const c = buf[p]!;
          const digit = c >= 48 && c <= 57 ? c - 48 : (c | 0x20) >= 97 && (c | 0x20) <= 102 ? (c | 0x20) - 87 : -1;
          if (digit >= 0) {
            if (this.remaining > 2 ** 40) return new HttpParseError('chunk size too large');
            this.remaining = this.remaining * 16 + digit;
            this.chunkDigits++;
            p++;
          } else if (this.chunkDigits === 0) {
            return new HttpParseError(`invalid chunk size byte 0x${c.toString(16)}`);
          } else if (c === CR || c === LF || c === SP || c === HT || c === 59 /* ; */) {
            this.state = CHUNK_EXT;
          } else {
            return new HttpParseError(`invalid chunk size byte 0x${c.toString(16)}`);
          }
          break;
        }
        case CHUNK_EXT: {
          // Chunk extensions are skipped up to the line's end.
          const lf = buf.indexOf(LF, p);
          if (lf < 0 || lf >= end) {
            p = end;
            break;
          }
          p = lf + 1;
          if (this.remaining === 0) {
            this.state = TRAILER;
            this.lineLength = 0;
          } else {
            this.state = CHUNK_DATA;
          }
          break;
        }
        case CHUNK_DATA: {
          const n = Math.min(this.remaining, end - p);
          p += n;
          this.remaining -= n;
          if (this.remaining === 0) this.state = CHUNK_DATA_END;
          break;
        }
        case CHUNK_DATA_END: {
          const c = buf[p++]!;
          if (c === LF) {
            this.state = CHUNK_SIZE;
            this.chunkDigits = 0;
          } else if (c !== CR) {
            return new HttpParseError('chunk data not followed by CRLF');
          }
          break;
        }
        case TRAILER: {
          // Trailer fields are skipped; an empty line ends the body.
          const c = buf[p++]!;
          if (c === LF) {
            if (this.lineLength === 0) {
              if (!this.complete()) return undefined;
            } else {
              this.lineLength = 0;
            }
          } else if (c !== CR) {
            this.lineLength++;
          }
          break;
        }
        case BODY_EOF:
          return undefined;
      }
    }
    return undefined;
  }

  /**
   * The connection's end: completes a body that runs to it. Returns an error when it cut a
   * response short; a connection that ends between responses is fine.
   */
  finish(): HttpParseError | undefined {
    if (this.state === BODY_EOF) {
      this.complete();
      return undefined;
    }
    if (this.idle) return undefined;
    return new HttpParseError('connection ended in the middle of a response');
  }

  /** Finds the end of the head (just past its empty line) in buf[p, end), carrying the scan across reads; -1 when it is not there yet. */
  private scanHead(buf: Buffer, p: number, end: number): number {
    let lineLength = this.lineLength;
    let sawLine = this.sawLine;
    for (let i = p; i < end; i++) {
      const c = buf[i]!;
      if (c === LF) {
        if (lineLength === 0 && sawLine) {
          this.lineLength = 0;
          this.sawLine = false;
          return i + 1;
        }
        sawLine = true;
        lineLength = 0;
      } else if (c !== CR) {
        lineLength++;
      }
    }
    this.lineLength = lineLength;
    this.sawLine = sawLine;
    return -1;
  }

  /** Copies the start of a head split across reads until the rest arrives. */
  private keep(buf: Buffer, p: number, end: number): HttpParseError | undefined {
    this.pendingBytes += end - p;
    if (this.pendingBytes > MAX_HEAD_BYTES) return new HttpParseError(`response head longer than ${MAX_HEAD_BYTES} bytes`);
    this.pending.push(Buffer.from(buf.subarray(p, end)));
    return undefined;
  }

  private malformed(message: string): number {
    this.error = new HttpParseError(message);
    return MALFORMED;
  }

  /**
   * Reads a head from buf[start, end) in one pass: the status line and the headers that
   * matter. Returns where the head ends (just past its empty line), INCOMPLETE when it does
   * not end before `end` (nothing is kept: it is read again whole), or MALFORMED with `error` set.
   */
  private parseHead(buf: Buffer, start: number, end: number): number {
    let i = start;
    while (i < end && buf[i] !== LF) i++;
    if (i >= end) return end - start > MAX_HEAD_BYTES ? this.malformed('status line too long') : INCOMPLETE;
    // "HTTP/1.x NNN" then a space or the line's end.
    if (
      i - start < 12 ||
      buf[start] !== 72 || buf[start + 1] !== 84 || buf[start + 2] !== 84 || buf[start + 3] !== 80 ||
      buf[start + 4] !== 47 || buf[start + 5] !== 49 || buf[start + 6] !== 46 ||
      (buf[start + 7] !== 49 && buf[start + 7] !== 48) || buf[start + 8] !== SP
    ) {
      return this.malformed(`malformed status line: ${JSON.stringify(buf.toString('latin1', start, Math.min(i, start + 40)))}`);
    }
    const d1 = buf[start + 9]! - 48;
    const d2 = buf[start + 10]! - 48;
    const d3 = buf[start + 11]! - 48;
    const after = buf[start + 12];
    if (d1 < 1 || d1 > 5 || d2 < 0 || d2 > 9 || d3 < 0 || d3 > 9 || (after !== SP && after !== CR && after !== LF)) {
      return this.malformed(`malformed status line: ${JSON.stringify(buf.toString('latin1', start, Math.min(i, start + 40)))}`);
    }
    let keepAlive = buf[start + 7] === 49;
    let contentLength = -1;
    let chunked = false;
    let bodyToEnd = false;
    let servedBy: string | undefined;
    i++;
    for (;;) {
      if (i >= end) return INCOMPLETE;
      let c = buf[i];
      if (c === LF) {
        i++;
        break;
      }
      if (c === CR) {
        if (i + 1 >= end) return INCOMPLETE;
        if (buf[i + 1] !== LF) return this.malformed('bare CR in the response head');
        i += 2;
        break;
      }
      const line = i;
      while (i < end && (c = buf[i]) !== 58 && c !== LF) i++;
      if (i >= end) return INCOMPLETE;
      if (c === LF) {
        // A line without a colon carries nothing we read.
        i++;
        continue;
      }
      const nameLength = i - line;
      let value = i + 1;
      while (i < end && buf[i] !== LF) i++;
      if (i >= end) return INCOMPLETE;
      const lineEnd = i++;
      if (nameLength !== 14 && nameLength !== 17 && nameLength !== 10 && nameLength !== 11) continue;
      let valueEnd = lineEnd;
      while (value < valueEnd && (buf[value] === SP || buf[value] === HT)) value++;
      while (valueEnd > value && (buf[valueEnd - 1] === CR || buf[valueEnd - 1] === SP || buf[valueEnd - 1] === HT)) valueEnd--;
      if (nameLength === 14 && sameName(buf, line, CONTENT_LENGTH)) {
        let n = 0;
        if (value === valueEnd) return this.malformed('empty content-length');
        for (let k = value; k < valueEnd; k++) {
          const d = buf[k]! - 48;
          if (d < 0 || d > 9 || n > 2 ** 45) return this.malformed(`invalid content-length: ${buf.toString('latin1', value, valueEnd)}`);
          n = n * 10 + d;
        }
        if (contentLength >= 0 && contentLength !== n) return this.malformed('conflicting content-length headers');
        contentLength = n;
      } else if (nameLength === 17 && sameName(buf, line, TRANSFER_ENCODING)) {
        const codings = buf.toString('latin1', value, valueEnd).toLowerCase().split(',');
        // Chunked only as the last coding delimits the body; otherwise it runs to the connection's end.
        if (codings[codings.length - 1]!.trim() === 'chunked') chunked = true;
        else bodyToEnd = true;
      } else if (nameLength === 10 && sameName(buf, line, CONNECTION)) {
        const n = valueEnd - value;
        if (n === KEEP_ALIVE.length && sameName(buf, value, KEEP_ALIVE)) keepAlive = true;
        else if (n === CLOSE.length && sameName(buf, value, CLOSE)) keepAlive = false;
        else {
          const v = buf.toString('latin1', value, valueEnd);
          if (hasToken(v, 'close')) keepAlive = false;
          else if (hasToken(v, 'keep-alive')) keepAlive = true;
        }
      } else if (nameLength === 11 && servedBy === undefined && sameName(buf, line, SERVED_BY)) {
        // The first one counts, as with undici.
        servedBy = this.servedByString(buf, value, valueEnd);
      }
    }
    if (chunked && contentLength >= 0) {
      // RFC 9112 6.3: Transfer-Encoding overrides Content-Length, and such a message must not be reused.
      contentLength = -1;
      keepAlive = false;
    }
    this.status = d1 * 100 + d2 * 10 + d3;
    this.servedBy = servedBy;
    this.keepAlive = keepAlive;
    this.remaining = chunked ? -2 : bodyToEnd ? -1 : contentLength;
    return i;
  }

  /** The x-served-by value as a string, the previous one reused when the bytes are the same. */
  private servedByString(buf: Buffer, start: number, end: number): string {
    const last = this.lastServedByBytes;
    if (this.lastServedBy !== undefined && last.length === end - start) {
      let same = true;
      for (let i = 0; i < last.length; i++) {
        if (last[i] !== buf[start + i]) {
          same = false;
          break;
        }
      }
      if (same) return this.lastServedBy;
    }
    const value = buf.toString('latin1', start, end);
    this.lastServedByBytes = Buffer.from(buf.subarray(start, end));
    this.lastServedBy = value;
    return value;
  }

  /** After a head: sets up the body's state, or completes a response without a body. Returns false when the handler stopped the parser. */
  private startBody(): boolean {
    const s = this.status;
    if (s < 200 && s !== 101) {
      // An interim response (100 Continue, 103 Early Hints): the real one follows.
      this.state = HEAD;
      return true;
    }
    if (this.headRequest || s === 204 || s === 304 || this.remaining === 0) return this.complete();
    if (this.remaining > 0) {
      this.state = BODY_LENGTH;
    } else if (this.remaining === -2) {
      this.state = CHUNK_SIZE;
      this.remaining = 0;
      this.chunkDigits = 0;
    } else {
      this.state = BODY_EOF;
      this.keepAlive = false;
    }
    return true;
  }

  /** One response finished: hands it over and gets ready for the next. */
  private complete(): boolean {
    this.state = HEAD;
    this.headRequest = false;
    this.lineLength = 0;
    this.sawLine = false;
    const keepAlive = this.keepAlive;
    const go = this.handler.onResponse(this.status, this.servedBy, keepAlive);
    return go && keepAlive;
  }
}

/** One request of the cycle, serialised once: its bytes, or for a keyed request the bytes around `{key}`. */
interface WireRequest {
  spec: NormalizedRequest;
  bytes: Buffer | undefined;
  before: string;
  after: string;
  /** A HEAD request: its answer has no body. */
  headMethod: boolean;
  nextKey: number;
}

const TOKEN = /^[!#$%&'*+.^_`|~0-9A-Za-z-]+$/;

/**
 * The request line and headers of one request as HTTP/1.1 text, each character one latin1
 * byte as undici sends them, and its body (UTF-8). Throws, as undici does, on a path or header
 * that would break the framing or does not fit in latin1.
 */
function serialise(req: NormalizedRequest, hostHeader: string): { text: string; body: Buffer } {
  if (!/^[\u0021-\u00ff]+$/.test(req.path)) {
    throw new FaultlineError('invalid-scenario', `request path ${JSON.stringify(req.path)} holds a space, a control character or a character beyond latin1`, { hint: 'percent-encode it (%20, %E2%82%AC)' });
  }
  const headers = req.headers ?? {};
  const lines = [`${req.method} ${req.path} HTTP/1.1`];
  const has = (name: string) => Object.keys(headers).some((h) => h.toLowerCase() === name);
  if (!has('host')) lines.push(`host: ${hostHeader}`);
  for (const [name, value] of Object.entries(headers)) {
    if (!TOKEN.test(name) || !/^[\t\u0020-\u007e\u0080-\u00ff]*$/.test(value)) {
      throw new FaultlineError('invalid-scenario', `request header ${JSON.stringify(name)}: ${JSON.stringify(value)} is not a valid HTTP header`, { hint: 'header names are tokens; values hold no control characters (CR, LF) and nothing beyond latin1' });
    }
    lines.push(`${name}: ${value}`);
  }
  const body = req.body === undefined ? Buffer.alloc(0) : Buffer.from(req.body, 'utf8');
  if (req.body !== undefined && !has('content-length') && !has('transfer-encoding')) lines.push(`content-length: ${body.length}`);
  return { text: `${lines.join('\r\n')}\r\n\r\n`, body };
}

function wireRequest(spec: NormalizedRequest, hostHeader: string): WireRequest {
  const { text, body } = serialise(spec, hostHeader);
  const headMethod = spec.method === 'HEAD';
  if (spec.keys === undefined) return { spec, bytes: Buffer.concat([Buffer.from(text, 'latin1'), body]), before: '', after: '', headMethod, nextKey: 0 };
  // Like the undici engine: the first `{key}` in the path is replaced. The body's bytes pass
  // through latin1 unchanged.
  const at = text.indexOf('{key}');
  return { spec, bytes: undefined, before: text.slice(0, at), after: text.slice(at + 5) + body.toString('latin1'), headMethod, nextKey: 0 };
}

/** One keep-alive connection with at most one request in flight, recording that request's outcome in the sink. */
class RawConnection implements ResponseHandler {
  readonly socket: Socket;
  private readonly client: RawHttpClient;
  private readonly parser: ResponseParser;
  /** Whether it may carry another request: not closing, not closed by either side. */
  usable = true;
  /** A request is in flight. */
  busy = false;
  /** When the request in flight was sent (performance.now() clock). */
  sentAtMs = 0;
  private op = '';
  private intendedMs = 0;
  private done: () => void = () => {};
  private key: string | undefined;

  constructor(client: RawHttpClient, endpoint: Endpoint, readBuffer: Buffer) {
    this.client = client;
    this.parser = new ResponseParser(this);
    this.socket = connect({
      host: endpoint.host,
      port: endpoint.port,
      noDelay: true,
      // Reads land in one buffer shared by every connection and are parsed at once: no
      // Buffer per read and no stream machinery on the hot path.
      onread: { buffer: readBuffer, callback: (n: number, buf: Uint8Array) => this.onRead(n, buf as Buffer) },
    });
    this.socket.on('error', (err) => this.fail(classifyError(err)));
    this.socket.on('end', () => this.onEnd());
    this.socket.on('close', () => this.onClose());
  }

  send(wire: WireRequest, bytes: Buffer, intendedMs: number, done: () => void, key: string | undefined): void {
    this.busy = true;
    this.op = wire.spec.name;
    this.intendedMs = intendedMs;
    this.done = done;
    this.key = key;
    // The closed model sends when an operation is due, so the due time is the send time.
    this.sentAtMs = intendedMs;
    if (wire.headMethod) this.parser.expectHeadResponse();
    this.socket.write(bytes);
  }

  private onRead(n: number, buf: Buffer): boolean {
    // A response that cannot be read is `other`, whatever its bytes say (not classifyError,
    // which would read "timed out" in them as a timeout).
    if (this.parser.execute(buf, 0, n) !== undefined) this.fail('other');
    return true;
  }

  onResponse(status: number, servedBy: string | undefined, keepAlive: boolean): boolean {
    if (!this.busy) {
      // An answer to nothing asked: the connection cannot be trusted any more.
      this.close();
      return false;
    }
    const now = performance.now();
    this.busy = false;
    const reuse = keepAlive && this.usable;
    if (reuse) this.client.release(this);
    else this.close();
    const sink = this.client.sink;
    const outcome = status >= 200 && status < 400 ? 'ok' : `http_${status}`;
    sink.op(this.op, this.intendedMs, Math.round((now - this.intendedMs) * 1000), outcome);
    if (servedBy !== undefined) {
      sink.tally(SHARE_TALLY, servedBy, this.intendedMs);
      if (this.key !== undefined && outcome === 'ok') sink.history(now, { key: this.key, by: servedBy });
    }
    this.done();
    return reuse;
  }

  /** The request in flight failed (`timeout`, `reset`, …): recorded, and the connection closed. */
  fail(kind: string): void {
    this.close();
    if (!this.busy) return;
    this.busy = false;
    this.client.sink.failed(this.op, this.intendedMs, kind);
    this.done();
  }

  private onEnd(): void {
    this.usable = false;
    // A body that ran to the end completes here; a peer that closed before or in the middle of
    // the answer is a reset to the request in flight.
    if (this.parser.finish() !== undefined || this.busy) this.fail('reset');
  }

  private onClose(): void {
    this.usable = false;
    this.client.forget(this);
    if (this.busy) this.fail('reset');
  }

  close(): void {
    this.usable = false;
    this.socket.destroy();
  }
}

/**
 * The raw engine of the HTTP driver's closed model: HTTP/1.1 straight over `node:net`
 * sockets, keep-alive, one request in flight per connection (the client's `pipelining` does
 * not apply), each request of the cycle serialised to bytes once. It records exactly as the
 * undici engine does: latency in µs from the intended send, `http_<status>` for answers outside
 * 2xx–3xx, `served_by` from `x-served-by`, and a `{ key, by }` history record per keyed
 * success. A request that has not been answered within `timeoutMs` of its send (whole
 * response, checked every few ms) is a `timeout`; transport errors map through
 * {@link classifyError}, a response the parser cannot read is `other`.
 */
export class RawHttpClient {
  readonly sink: MetricSink;
  private readonly endpoint: Endpoint;
  private readonly cycle: WireRequest[];
  private readonly timeoutMs: number;
  private readonly idle: RawConnection[] = [];
  private readonly open = new Set<RawConnection>();
  private readonly readBuffer = Buffer.allocUnsafe(64 * 1024);
  private readonly sweep: NodeJS.Timeout;
  private closed = false;

  /** `cycle`: the workload's requests in their fixed order (see `requestCycle`); `timeoutMs`: per request, from its send. */
  constructor(endpoint: Endpoint, cycle: readonly NormalizedRequest[], timeoutMs: number, sink: MetricSink) {
    this.endpoint = endpoint;
    this.sink = sink;
    this.timeoutMs = timeoutMs;
    const hostHeader = `${endpoint.host.includes(':') ? `[${endpoint.host}]` : endpoint.host}:${endpoint.port}`;
    const wires = new Map<NormalizedRequest, WireRequest>();
    this.cycle = cycle.map((r) => {
      let w = wires.get(r);
      if (!w) wires.set(r, (w = wireRequest(r, hostHeader)));
      return w;
    });
    // One sweep for every connection instead of a timer per request.
    this.sweep = setInterval(() => this.expire(), Math.min(250, Math.max(5, Math.round(timeoutMs / 20))));
    this.sweep.unref();
  }

  readonly send: SendOne = (k, dueMs, done) => {
    if (this.closed) return;
    const wire = this.cycle[k % this.cycle.length]!;
    let bytes = wire.bytes;
    let key: string | undefined;
    if (bytes === undefined) {
      key = String(wire.nextKey++ % wire.spec.keys!);
      bytes = Buffer.from(wire.before + key + wire.after, 'latin1');
    }
    let conn = this.idle.pop();
    while (conn !== undefined && !conn.usable) conn = this.idle.pop();
    if (conn === undefined) {
      conn = new RawConnection(this, this.endpoint, this.readBuffer);
      this.open.add(conn);
    }
    conn.send(wire, bytes, dueMs, done, key);
  };

  /** A connection finished its request and may carry the next one. */
  release(conn: RawConnection): void {
    this.idle.push(conn);
  }

  /** A connection closed. */
  forget(conn: RawConnection): void {
    this.open.delete(conn);
  }

  private expire(): void {
    const now = performance.now();
    for (const conn of this.open) if (conn.busy && now - conn.sentAtMs > this.timeoutMs) conn.fail('timeout');
  }

  /** Closes every connection; requests in flight are dropped unrecorded, and nothing is sent or recorded after it. Idempotent. */
  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    clearInterval(this.sweep);
    const closing = [...this.open].map((conn) => new Promise<void>((resolve) => {
      conn.busy = false;
      if (conn.socket.closed) resolve();
      else conn.socket.once('close', () => resolve()).destroy();
    }));
    this.idle.length = 0;
    await Promise.all(closing);
  }
}
