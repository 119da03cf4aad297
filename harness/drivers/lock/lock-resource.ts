import { createServer, type Server, type Socket } from 'node:net';
import type { MetricSink } from '../../metrics/sink.ts';
import type { ResourceAnswer, ResourceRequest } from './lock-protocol.ts';

/** One client connection and the hold it has open. */
interface Conn {
  socket: Socket;
  c: string;
  p: number;
  hold: { r: string; h: string; k: number | undefined; fencedOut: boolean } | undefined;
}

/** What a resource has seen: its counter, accepted writes, the highest fencing token. */
interface ResourceState {
  counter: number;
  writes: number;
  highest: number;
  open: Set<Conn>;
}

export interface ResourceOptions {
  /** Where every hold, write, renewal and end goes (the history, for the `locks` checker). */
  sink: MetricSink;
  /** The lease, written into every hold record so the checker can tell when it ran out. */
  ttlMs: number;
  /** Refuse requests whose fencing token is lower than the highest seen for the resource. */
  fencing: boolean;
}

/**
 * The protected resource: a small TCP server in the load generator's process, reached by the
 * lock clients on 127.0.0.1 directly (never through a fault proxy), which keeps a counter per
 * resource that holders read, then write read + 1, and records every hold, write, renewal and
 * end in the history as it processes them.
 *
 * Every record is stamped with this process's performance.now() when the request is handled:
 * one monotonic clock, and the order of the stamps is the order in which the resource applied
 * the requests. So two holds intersect on this clock exactly when the resource let a second
 * holder in before the first one's end — whatever the clients' own clocks or IPC delays —
 * and a write's time is when it took effect. The `locks` checker judges overlaps and stale
 * writes on these times alone.
 *
 * With `fencing`, every request carries the holder's fencing token; one lower than the highest
 * seen for its resource is refused (recorded with `rej`), and a new highest token fences out the
 * holds of lower tokens still open (`fenced-out`): the resource accepts nothing more from them,
 * so their time inside the critical section ends there.
 */
export class LockResource {
  private readonly server: Server;
  private readonly opts: ResourceOptions;
  private readonly states = new Map<string, ResourceState>();
  private readonly conns = new Set<Conn>();
  private closing = false;

  constructor(opts: ResourceOptions) {
    this.opts = opts;
    this.server = createServer((socket) => this.accept(socket));
  }

  /** Listens on 127.0.0.1 at a free port; returns it. */
  listen(): Promise<{ host: string; port: number }> {
    return new Promise((resolve, reject) => {
      this.server.once('error', reject);
      this.server.listen(0, '127.0.0.1', () => {
        this.server.off('error', reject);
        const addr = this.server.address();
        if (addr === null || typeof addr === 'string') reject(new Error('the protected resource has no TCP address'));
        else resolve({ host: '127.0.0.1', port: addr.port });
      });
    });
  }

  private state(r: string): ResourceState {
    let s = this.states.get(r);
    if (!s) this.states.set(r, (s = { counter: 0, writes: 0, highest: -Infinity, open: new Set() }));
    return s;
  }

  private history(rec: Record<string, unknown>, now = performance.now()): void {
    this.opts.sink.history(now, rec);
  }

  private accept(socket: Socket): void {
    socket.setNoDelay(true);
    const conn: Conn = { socket, c: '?', p: 0, hold: undefined };
    this.conns.add(conn);
    let buffer = '';
    socket.on('data', (chunk: Buffer) => {
      buffer += chunk.toString('utf8');
      let nl: number;
      while ((nl = buffer.indexOf('\n')) >= 0) {
        const line = buffer.slice(0, nl);
        buffer = buffer.slice(nl + 1);
        let answer: ResourceAnswer;
        try {
          answer = this.handle(conn, JSON.parse(line) as ResourceRequest);
        } catch (err) {
          answer = { ok: false, why: `bad request: ${err instanceof Error ? err.message : String(err)}` };
        }
        socket.write(`${JSON.stringify(answer)}\n`);
      }
    });
    socket.on('error', () => {});
    socket.on('close', () => {
      this.conns.delete(conn);
      // A client process that died (a crash fault) leaves the critical section when its connection goes.
      if (conn.hold && !this.closing) {
        this.history({ ev: 'end', c: conn.c, r: conn.hold.r, h: conn.hold.h, crashed: true });
        this.state(conn.hold.r).open.delete(conn);
      }
      conn.hold = undefined;
    });
  }

  /** Checks a fencing token against the resource's highest; a new highest fences out the lower holds still open. */
  private fence(conn: Conn, r: string, k: number | undefined, now: number): string | undefined {
    if (!this.opts.fencing) return undefined;
    if (k === undefined) return 'no fencing token';
    const s = this.state(r);
    if (k < s.highest) return `fencing token ${k} is lower than ${s.highest}`;
    if (k > s.highest) {
      s.highest = k;
      for (const other of s.open) {
        const hold = other.hold;
        if (other === conn || !hold || hold.fencedOut || hold.k === undefined || hold.k >= k) continue;
        hold.fencedOut = true;
        this.history({ ev: 'fenced-out', c: other.c, r, h: hold.h, k: hold.k, by: k }, now);
      }
    }
    return undefined;
  }

  private handle(conn: Conn, q: ResourceRequest): ResourceAnswer {
    const now = performance.now();
    const k = 'k' in q ? q.k : undefined;
    const fenced = k === undefined ? {} : { k };
    switch (q.o) {
      case 'hi':
        conn.c = q.c;
        conn.p = q.p;
        return { ok: true };
      case 'begin': {
        const refused = this.fence(conn, q.r, k, now);
        if (refused) {
          this.history({ ev: 'hold', c: conn.c, r: q.r, h: q.h, ttl: this.opts.ttlMs, ...fenced, rej: true }, now);
          return { ok: false, why: refused };
        }
        conn.hold = { r: q.r, h: q.h, k, fencedOut: false };
        this.state(q.r).open.add(conn);
        this.history({ ev: 'hold', c: conn.c, r: q.r, h: q.h, ttl: this.opts.ttlMs, ...fenced }, now);
        return { ok: true };
      }
      case 'read': {
        const refused = this.fence(conn, q.r, k, now);
        const h = conn.hold?.h;
        if (refused) {
          this.history({ ev: 'read', c: conn.c, r: q.r, h, ...fenced, rej: true }, now);
          return { ok: false, why: refused };
        }
        return { ok: true, v: this.state(q.r).counter };
      }
      case 'write': {
        const refused = this.fence(conn, q.r, k, now);
        const h = conn.hold?.h;
        const s = this.state(q.r);
        if (refused) {
          this.history({ ev: 'write', c: conn.c, r: q.r, h, v: q.v, prev: s.counter, ...fenced, rej: true }, now);
          return { ok: false, why: refused };
        }
        this.history({ ev: 'write', c: conn.c, r: q.r, h, v: q.v, prev: s.counter, ...fenced }, now);
        s.counter = q.v;
        s.writes++;
        return { ok: true };
      }
      case 'renew':
        this.history({ ev: 'renew', c: conn.c, r: q.r, h: conn.hold?.h }, now);
        return { ok: true };
      case 'end': {
        if (conn.hold) {
          this.history({ ev: 'end', c: conn.c, r: q.r, h: conn.hold.h }, now);
          this.state(conn.hold.r).open.delete(conn);
        }
        conn.hold = undefined;
        return { ok: true };
      }
    }
    return { ok: false, why: `unknown request '${String((q as { o?: unknown }).o)}'` };
  }

  /** Each resource's counter and the writes it accepted. */
  counters(): Map<string, { value: number; writes: number }> {
    return new Map([...this.states].map(([r, s]) => [r, { value: s.counter, writes: s.writes }]));
  }

  /** Writes each resource's final counter and accepted writes to the history (`final`): what lost updates are counted against. */
  recordFinal(): void {
    for (const [r, s] of this.states) this.history({ ev: 'final', r, v: s.counter, writes: s.writes });
  }

  /** Stops listening and drops every connection; records nothing more. Idempotent. */
  async close(): Promise<void> {
    if (this.closing) return;
    this.closing = true;
    for (const c of this.conns) c.socket.destroy();
    await new Promise<void>((resolve) => this.server.close(() => resolve()));
  }
}
