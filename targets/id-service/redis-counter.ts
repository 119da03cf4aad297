// The one Redis command the counter-based ID generators need, INCRBY, over a plain socket: the
// ID service runs in a container with only the target's own files, so it carries no client
// library. Commands are pipelined on one connection and answered in order (RESP integers).
import { connect, type Socket } from 'node:net';

/** Redis could not be reached or answered with an error: the service answers 503. */
export class CounterUnavailableError extends Error {
  readonly code = 'counter-unavailable';
}

interface Pending {
  resolve: (n: bigint) => void;
  reject: (err: Error) => void;
}

/**
 * INCRBY on one key of one Redis server. A lost connection fails the commands in flight (their
 * increments may or may not have happened: the IDs are never handed out, so a gap, never a
 * duplicate) and the next command connects again.
 */
export class RedisCounter {
  private readonly host: string;
  private readonly port: number;
  private readonly key: string;
  private socket: Socket | undefined;
  private readonly pending: Pending[] = [];
  private buffer = '';

  constructor(host: string, port: number, key: string) {
    this.host = host;
    this.port = port;
    this.key = key;
  }

  /** Adds `by` to the counter and returns the new value (the last of `by` numbers now owned). */
  incrBy(by: number): Promise<bigint> {
    const socket = this.socket ?? this.open();
    return new Promise((resolve, reject) => {
      this.pending.push({ resolve, reject });
      const key = Buffer.byteLength(this.key);
      const arg = String(by);
      socket.write(`*3\r\n$6\r\nINCRBY\r\n$${key}\r\n${this.key}\r\n$${arg.length}\r\n${arg}\r\n`);
    });
  }

  close(): void {
    this.socket?.destroy();
  }

  private open(): Socket {
    const socket = connect({ host: this.host, port: this.port, noDelay: true });
    this.socket = socket;
    this.buffer = '';
    socket.setEncoding('latin1');
    socket.on('data', (chunk: string) => this.read(chunk));
    const fail = (why: string) => {
      if (this.socket !== socket) return;
      this.socket = undefined;
      socket.destroy();
      for (const p of this.pending.splice(0)) p.reject(new CounterUnavailableError(`redis ${this.host}:${this.port}: ${why}`));
    };
    socket.on('error', (err) => fail(err.message));
    socket.on('close', () => fail('connection closed'));
    return socket;
  }

  private read(chunk: string): void {
    this.buffer += chunk;
    let end: number;
    while ((end = this.buffer.indexOf('\r\n')) >= 0) {
      const line = this.buffer.slice(0, end);
      this.buffer = this.buffer.slice(end + 2);
      const p = this.pending.shift();
      if (!p) continue;
      if (line.startsWith(':')) p.resolve(BigInt(line.slice(1)));
      else p.reject(new CounterUnavailableError(`redis ${this.host}:${this.port} answered ${line}`));
    }
  }
}
