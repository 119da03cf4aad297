import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it } from 'vitest';
import { MetricSink } from '../metrics/sink.ts';
import { SHARE_TALLY } from './driver.ts';
import type { NormalizedRequest } from './http-workload.ts';
import { RawHttpClient, ResponseParser } from './raw-http.ts';
import { classifyError } from './transport-errors.ts';

interface Seen {
  status: number;
  servedBy: string | undefined;
  keepAlive: boolean;
}

/** A parser that collects what it reads. */
function collector(): { parser: ResponseParser; seen: Seen[] } {
  const seen: Seen[] = [];
  const parser = new ResponseParser({
    onResponse(status, servedBy, keepAlive) {
      seen.push({ status, servedBy, keepAlive });
      return true;
    },
  });
  return { parser, seen };
}

/** Feeds `text` to a fresh parser in pieces cut at `cuts`, inside a larger buffer so offsets matter. */
function feed(text: string, cuts: number[] = []): { seen: Seen[]; error: Error | undefined; parser: ResponseParser } {
  const { parser, seen } = collector();
  const bytes = Buffer.from(text, 'latin1');
  const bounds = [0, ...cuts, bytes.length];
  for (let i = 0; i + 1 < bounds.length; i++) {
    const piece = bytes.subarray(bounds[i], bounds[i + 1]);
    // Garbage around the piece: the parser must read only [start, end).
    const buf = Buffer.concat([Buffer.from('XX\n\r\n'), piece, Buffer.from('\r\n\r\nHTTP/1.1 999')]);
    const error = parser.execute(buf, 5, 5 + piece.length);
    if (error) return { seen, error, parser };
  }
  return { seen, error: undefined, parser };
}

const nginxLike = 'HTTP/1.1 200 OK\r\nServer: nginx\r\nContent-Type: text/plain\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok';
const chunked = 'HTTP/1.1 200 OK\r\nX-Served-By: b2\r\nTransfer-Encoding: chunked\r\n\r\n5\r\nhello\r\n1a;ext=1\r\nabcdefghijklmnopqrstuvwxyz\r\n0\r\nTrailer: x\r\n\r\n';

describe('ResponseParser', () => {
  it('reads a whole response in one piece', () => {
    expect(feed(nginxLike).seen).toEqual([{ status: 200, servedBy: undefined, keepAlive: true }]);
  });

  it('reads a response split at every byte boundary, and byte by byte', () => {
    for (const text of [nginxLike, chunked]) {
      const whole = feed(text).seen;
      expect(whole).toHaveLength(1);
      for (let cut = 1; cut < text.length; cut++) {
        const r = feed(text, [cut]);
        expect(r.error, `cut at ${cut}`).toBeUndefined();
        expect(r.seen, `cut at ${cut}`).toEqual(whole);
        expect(r.parser.idle).toBe(true);
      }
      const bytes = feed(text, Array.from({ length: text.length - 1 }, (_, i) => i + 1));
      expect(bytes.seen).toEqual(whole);
    }
  });

  it('reads chunked bodies, extensions and trailers included, and x-served-by in any case', () => {
    expect(feed(chunked).seen).toEqual([{ status: 200, servedBy: 'b2', keepAlive: true }]);
    const empty = 'HTTP/1.1 200 OK\r\ntransfer-encoding: chunked\r\nx-served-by:  pid-7 \r\n\r\n0\r\n\r\n';
    expect(feed(empty).seen).toEqual([{ status: 200, servedBy: 'pid-7', keepAlive: true }]);
  });

  it('completes a Content-Length 0 response, a 204 and a 304 without a body', () => {
    const zero = 'HTTP/1.1 200 OK\r\nContent-Length: 0\r\n\r\n';
    const noContent = 'HTTP/1.1 204 No Content\r\n\r\n';
    const notModified = 'HTTP/1.1 304 Not Modified\r\nContent-Length: 10\r\n\r\n';
    const r = feed(zero + noContent + notModified + nginxLike);
    expect(r.seen.map((s) => s.status)).toEqual([200, 204, 304, 200]);
    expect(r.parser.idle).toBe(true);
  });

  it('reads pipelined responses out of one read, and one split across the next', () => {
    const three = nginxLike + chunked + 'HTTP/1.1 503 Service Unavailable\r\nContent-Length: 4\r\nX-Served-By: b1\r\n\r\nbusy';
    expect(feed(three).seen).toEqual([
      { status: 200, servedBy: undefined, keepAlive: true },
      { status: 200, servedBy: 'b2', keepAlive: true },
      { status: 503, servedBy: 'b1', keepAlive: true },
    ]);
    const split = feed(three, [nginxLike.length + 7, nginxLike.length + chunked.length + 3]);
    expect(split.seen.map((s) => s.status)).toEqual([200, 200, 503]);
  });

  it('skips an interim 100 Continue before the answer', () => {
    expect(feed('HTTP/1.1 100 Continue\r\n\r\n' + nginxLike).seen).toEqual([{ status: 200, servedBy: undefined, keepAlive: true }]);
  });

  it('reads connection: close, HTTP/1.0 defaults and a body that runs to the connection end', () => {
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: Close\r\n\r\nok').seen[0]!.keepAlive).toBe(false);
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: TE, close\r\n\r\nok').seen[0]!.keepAlive).toBe(false);
    expect(feed('HTTP/1.0 200 OK\r\nContent-Length: 2\r\n\r\nok').seen[0]!.keepAlive).toBe(false);
    expect(feed('HTTP/1.0 200 OK\r\nContent-Length: 2\r\nConnection: keep-alive\r\n\r\nok').seen[0]!.keepAlive).toBe(true);
    const toEnd = feed('HTTP/1.1 200 OK\r\n\r\nsome body');
    expect(toEnd.seen).toEqual([]);
    expect(toEnd.parser.finish()).toBeUndefined();
    expect(toEnd.seen).toEqual([{ status: 200, servedBy: undefined, keepAlive: false }]);
  });

  it('reads no body after a HEAD request whatever Content-Length says', () => {
    const { parser, seen } = collector();
    parser.expectHeadResponse();
    const text = Buffer.from('HTTP/1.1 200 OK\r\nContent-Length: 1000\r\n\r\n' + nginxLike);
    expect(parser.execute(text, 0, text.length)).toBeUndefined();
    expect(seen.map((s) => s.status)).toEqual([200, 200]);
  });

  it('stops at a response that closes the connection, and when its handler says so', () => {
    expect(feed('HTTP/1.1 200 OK\r\nContent-Length: 0\r\nConnection: close\r\n\r\n' + nginxLike).seen).toHaveLength(1);
    const parser = new ResponseParser({ onResponse: () => false });
    const text = Buffer.from(nginxLike + 'garbage');
    expect(parser.execute(text, 0, text.length)).toBeUndefined();
  });

  it('a connection that ends mid-response is an error; between responses it is not', () => {
    expect(feed(nginxLike).parser.finish()).toBeUndefined();
    expect(feed(nginxLike.slice(0, 20)).parser.finish()).toBeInstanceOf(Error);
    expect(feed(nginxLike.slice(0, -1)).parser.finish()).toBeInstanceOf(Error);
  });

  it.each([
    ['a malformed status line', 'HTTP/1.1 20 OK\r\n\r\n'],
    ['not HTTP at all', 'SSH-2.0-OpenSSH_9.2\r\n\r\n'],
    ['a status out of range', 'HTTP/1.1 999 Odd\r\n\r\n'],
    ['HTTP/2 framing', 'HTTP/2 200\r\n\r\n'],
    ['a bad Content-Length', 'HTTP/1.1 200 OK\r\nContent-Length: 1x\r\n\r\n'],
    ['conflicting Content-Lengths', 'HTTP/1.1 200 OK\r\nContent-Length: 1\r\nContent-Length: 2\r\n\r\n'],
    ['a bad chunk size', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\nzz\r\n'],
    ['chunk data without CRLF', 'HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n2\r\nokX\r\n'],
  ])('%s is an error of kind other', (_what, text) => {
    const r = feed(text);
    expect(r.error).toBeInstanceOf(Error);
    expect(classifyError(r.error)).toBe('other');
    expect(r.seen).toEqual([]);
  });

  it('refuses a head that never ends', () => {
    const { parser } = collector();
    const line = Buffer.from(`HTTP/1.1 200 OK\r\n${'x-pad: '.padEnd(1000, 'a')}\r\n`);
    let error: Error | undefined;
    for (let i = 0; i < 100 && !error; i++) error = parser.execute(line, 0, line.length);
    expect(classifyError(error)).toBe('other');
  });
});

describe('RawHttpClient against node:http', () => {
  const servers: Server[] = [];
  const sinks: MetricSink[] = [];
  afterEach(async () => {
    for (const s of servers.splice(0)) await new Promise((r) => s.close(r).closeAllConnections());
    for (const s of sinks.splice(0)) s.destroy();
  });

  async function serve(handler: Parameters<typeof createServer>[1]): Promise<{ port: number; connections: Set<unknown> }> {
    const server = createServer(handler);
    const connections = new Set<unknown>();
    server.on('connection', (socket) => connections.add(socket));
    servers.push(server);
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    return { port: (server.address() as AddressInfo).port, connections };
  }

  const req = (path: string, extra: Partial<NormalizedRequest> = {}): NormalizedRequest => ({ name: `GET ${path}`, method: 'GET', path, weight: 1, ...extra });

  /** Sends `n` requests one after another on a client of `port`, each when the previous finished. */
  async function sendAll(port: number, cycle: NormalizedRequest[], n: number, timeoutMs = 5000) {
    const sink = new MetricSink({ windowStartMs: 0, lateThresholdMs: 10, historyFile: undefined });
    sinks.push(sink);
    const history: Record<string, unknown>[] = [];
    sink.history = (_at, record) => void history.push(record);
    const client = new RawHttpClient({ host: '127.0.0.1', port }, cycle, timeoutMs, sink);
    try {
      for (let k = 0; k < n; k++) await new Promise<void>((done) => client.send(k, performance.now(), done));
    } finally {
      await client.close();
    }
    return { summary: sink.finish(), history };
  }

  it('keeps one connection alive, sends the request as given and records ok, latency in µs and served_by', async () => {
    const seen: string[] = [];
    const { port, connections } = await serve((rq, res) => {
      let body = '';
      rq.on('data', (c: Buffer) => (body += c.toString()));
      rq.on('end', () => {
        seen.push(`${rq.method} ${rq.url} ${rq.headers['x-test']} ${body}`);
        res.writeHead(200, { 'x-served-by': 'node-1', 'content-type': 'text/plain' });
        res.end(rq.url === '/big' ? 'x'.repeat(200_000) : 'hello');
      });
    });
    const cycle = [req('/a'), req('/p', { name: 'post', method: 'POST', headers: { 'x-test': 'yes' }, body: 'héllo' }), req('/big')];
    const { summary } = await sendAll(port, cycle, 30);
    expect(connections.size).toBe(1);
    expect(seen.slice(0, 3)).toEqual(['GET /a undefined ', 'POST /p yes héllo', 'GET /big undefined ']);
    expect(summary.totals.ok).toBe(30);
    expect(summary.byOperation.post!.ok).toBe(10);
    expect(summary.tallies[SHARE_TALLY]).toEqual({ 'node-1': 30 });
    expect(summary.totals.latencyUs.max).toBeGreaterThan(0);
    expect(summary.totals.latencyUs.max).toBeLessThan(5_000_000);
  });

  it('records a 503 as http_503 and writes a history record only for keyed successes', async () => {
    const { port } = await serve((rq, res) => {
      const fail = rq.url === '/k/2';
      res.writeHead(fail ? 503 : 200, { 'x-served-by': fail ? 'sick' : 'well', 'content-length': 0 });
      res.end();
    });
    const { summary, history } = await sendAll(port, [req('/k/{key}', { name: 'keyed', keys: 3 })], 6);
    expect(summary.totals.ok).toBe(4);
    expect(summary.totals.errorsByKind).toEqual({ http_503: 2 });
    expect(summary.tallies[SHARE_TALLY]).toEqual({ well: 4, sick: 2 });
    expect(history).toEqual([{ key: '0', by: 'well' }, { key: '1', by: 'well' }, { key: '0', by: 'well' }, { key: '1', by: 'well' }]);
  });

  it('opens a new connection after connection: close', async () => {
    const { port, connections } = await serve((_rq, res) => {
      res.writeHead(200, { connection: 'close', 'content-length': 2 });
      res.end('ok');
    });
    const { summary } = await sendAll(port, [req('/')], 3);
    expect(summary.totals.ok).toBe(3);
    expect(connections.size).toBe(3);
  });

  it('a request unanswered within the timeout is a timeout, and the next one still goes through', async () => {
    const { port } = await serve((rq, res) => {
      if (rq.url === '/slow') return;
      res.end('ok');
    });
    const began = performance.now();
    const { summary } = await sendAll(port, [req('/slow'), req('/fast')], 2, 200);
    expect(summary.totals.errorsByKind).toEqual({ timeout: 1 });
    expect(summary.totals.ok).toBe(1);
    expect(performance.now() - began).toBeGreaterThanOrEqual(200);
    expect(performance.now() - began).toBeLessThan(2000);
  });

  it('a server that closes without answering is a reset; a refused port is refused', async () => {
    const { port } = await serve((rq) => rq.socket.destroy());
    expect((await sendAll(port, [req('/')], 2)).summary.totals.errorsByKind).toEqual({ reset: 2 });
    const closed = await serve(() => {});
    const refusedPort = closed.port;
    await new Promise((r) => servers.pop()!.close(r));
    expect((await sendAll(refusedPort, [req('/')], 2)).summary.totals.errorsByKind).toEqual({ refused: 2 });
  });

  it('an answer that is not HTTP is other, even when it says it timed out', async () => {
    const { port } = await serve((rq) => rq.socket.end(rq.url === '/a' ? 'HTTP/1.1 2xx Odd\r\n\r\n' : 'upstream timed out\r\n\r\n'));
    expect((await sendAll(port, [req('/a'), req('/b')], 2)).summary.totals.errorsByKind).toEqual({ other: 2 });
  });

  it('sends and records nothing after close', async () => {
    const { port } = await serve((_rq, res) => res.end('ok'));
    const sink = new MetricSink({ windowStartMs: 0, lateThresholdMs: 10 });
    sinks.push(sink);
    const client = new RawHttpClient({ host: '127.0.0.1', port }, [req('/')], 1000, sink);
    let calls = 0;
    client.send(0, performance.now(), () => calls++);
    await client.close();
    client.send(1, performance.now(), () => calls++);
    await new Promise((r) => setTimeout(r, 50));
    expect(calls).toBe(0);
    expect(sink.finish().totals.ops).toBe(0);
  });

  it('refuses a header value or a path that would break the framing', () => {
    const sink = new MetricSink({ windowStartMs: 0, lateThresholdMs: 10 });
    sinks.push(sink);
    expect(() => new RawHttpClient({ host: '127.0.0.1', port: 1 }, [req('/', { headers: { 'x-a': 'b\r\nx-evil: 1' } })], 1000, sink)).toThrow(/not a valid HTTP header/);
    expect(() => new RawHttpClient({ host: '127.0.0.1', port: 1 }, [req('/a b')], 1000, sink)).toThrow(/holds a space/);
  });
});
