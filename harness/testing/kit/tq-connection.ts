import { connect, type Socket } from 'node:net';
import type { Endpoint } from '../../base/endpoint.ts';

/** One message as the test queue carries it: its producer and that producer's sequence number. */
export interface TqMessage {
  p: string;
  s: number;
}

/** The test queue's answers, by request. */
export interface TqHello {
  /** `host:port` clients should use for everything after the hello. */
  advertised: string;
  /** The partition's service name (`queue-1`). */
  name?: string;
}
export interface TqTaken {
  msgs: TqMessage[];
  /** Messages left in the partition after this take. */
  depth: number;
}
export interface TqStats {
  depth: number;
  received: number;
  dropped: number;
  duplicated: number;
}

/** An error with a Node-style code, so the driver's error kinds read it like a socket error. */
function codedError(message: string, code: string): Error {
  return Object.assign(new Error(message), { code });
}

interface Pending {
  resolve(value: unknown): void;
  reject(err: Error): void;
  timer: NodeJS.Timeout;
}

/**
 * One connection speaking `tq`: newline-delimited JSON requests, answered in order. A request
 * that times out closes the connection (later answers could no longer be matched to their
 * requests), failing everything still pending on it.
 */
export class TqConnection {
  private readonly socket: Socket;
  private readonly pending: Pending[] = [];
  private buffer = '';
  private failure: Error | undefined;

  private constructor(socket: Socket) {
    this.socket = socket;
    socket.setEncoding('utf8');
    socket.on('data', (chunk: string) => this.onData(chunk));
    socket.on('error', (err) => this.fail(err));
    socket.on('close', () => this.fail(codedError('tq connection closed', 'ECONNRESET')));
  }

  /** Connects within `timeoutMs`, or rejects (`ECONNREFUSED`, `ETIMEDOUT`, or `signal`'s reason). */
  static open(ep: Endpoint, timeoutMs: number, signal?: AbortSignal): Promise<TqConnection> {
    return new Promise((resolve, reject) => {
      const socket = connect({ host: ep.host, port: ep.port, noDelay: true });
      const abort = (): void => {
        socket.destroy();
        reject(signal?.reason instanceof Error ? signal.reason : codedError('aborted', 'ABORT_ERR'));
      };
      const timer = setTimeout(() => {
        socket.destroy();
        reject(codedError(`tq connect to ${ep.host}:${ep.port} timed out after ${timeoutMs} ms`, 'ETIMEDOUT'));
      }, timeoutMs);
      signal?.addEventListener('abort', abort, { once: true });
      socket.once('error', (err) => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        reject(err);
      });
      socket.once('connect', () => {
        clearTimeout(timer);
        signal?.removeEventListener('abort', abort);
        socket.removeAllListeners('error');
        resolve(new TqConnection(socket));
      });
    });
  }

  /** Whether the connection failed or was closed: a new one is needed. */
  get broken(): boolean {
    return this.failure !== undefined;
  }

  hello(timeoutMs: number): Promise<TqHello> {
    return this.request({ op: 'hello' }, timeoutMs) as Promise<TqHello>;
  }

  put(m: TqMessage, timeoutMs: number): Promise<{ ack: number }> {
    return this.request({ op: 'put', p: m.p, s: m.s }, timeoutMs) as Promise<{ ack: number }>;
  }

  take(max: number, timeoutMs: number): Promise<TqTaken> {
    return this.request({ op: 'take', max }, timeoutMs) as Promise<TqTaken>;
  }

  stats(timeoutMs: number): Promise<TqStats> {
    return this.request({ op: 'stats' }, timeoutMs) as Promise<TqStats>;
  }

  /** Sends one request; resolves with its answer, rejects on an `error` answer, a timeout or a broken connection. */
  request(req: Record<string, unknown>, timeoutMs: number): Promise<unknown> {
    if (this.failure) return Promise.reject(this.failure);
    return new Promise((resolve, reject) => {
      const entry: Pending = {
        resolve,
        reject,
        timer: setTimeout(() => {
          this.pending.splice(this.pending.indexOf(entry), 1);
          reject(codedError(`tq ${String(req.op)} timed out after ${timeoutMs} ms`, 'ETIMEDOUT'));
          this.fail(codedError(`tq connection closed after a ${String(req.op)} timed out`, 'ECONNRESET'));
        }, timeoutMs),
      };
      this.pending.push(entry);
      this.socket.write(`${JSON.stringify(req)}\n`);
    });
  }

  close(): void {
    this.fail(codedError('tq connection closed by the client', 'ECONNRESET'));
  }

  private onData(chunk: string): void {
    this.buffer += chunk;
    let nl: number;
    while ((nl = this.buffer.indexOf('\n')) >= 0) {
      const line = this.buffer.slice(0, nl);
      this.buffer = this.buffer.slice(nl + 1);
      const p = this.pending.shift();
      if (!p) continue;
      clearTimeout(p.timer);
      let answer: unknown;
      try {
        answer = JSON.parse(line);
      } catch {
        p.reject(new Error(`tq answered with something that is not JSON: ${line.slice(0, 200)}`));
        continue;
      }
      const error = (answer as { error?: unknown }).error;
      if (typeof error === 'string') p.reject(new Error(`tq refused the request: ${error}`));
      else p.resolve(answer);
    }
  }

  private fail(err: Error): void {
    if (!this.failure) this.failure = err;
    this.socket.destroy();
    for (const p of this.pending.splice(0)) {
      clearTimeout(p.timer);
      p.reject(err);
    }
  }
}

/** Parses `host:port` (the hello's `advertised`). */
export function parseHostPort(text: string): Endpoint | undefined {
  const at = text.lastIndexOf(':');
  if (at <= 0) return undefined;
  const port = Number(text.slice(at + 1));
  const host = text.slice(0, at).replace(/^\[(.*)\]$/, '$1');
  return Number.isInteger(port) && port > 0 && port < 65536 ? { host, port } : undefined;
}

/**
 * The `tq` readiness probe: a real hello round trip, answered with an advertised address.
 * Gives up within a second so the wait can try again.
 */
export async function tqHelloProbe(ep: Endpoint, signal: AbortSignal): Promise<boolean> {
  const conn = await TqConnection.open(ep, 1000, signal);
  try {
    const hello = await conn.hello(1000);
    return typeof hello.advertised === 'string' && parseHostPort(hello.advertised) !== undefined;
  } finally {
    conn.close();
  }
}
