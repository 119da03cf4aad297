// The recipe service: the same operations over JSON/HTTP (node:http) and over gRPC
// (@grpc/grpc-js, recipe.proto), in one process, quiet (no per-request logging), configured by
// env: HOST, HTTP_PORT and/or GRPC_PORT (a protocol runs only when its port is given), NAME
// (what `x-served-by` says on every answer: an HTTP header, gRPC response metadata) and
// COMPRESSION (`gzip`: HTTP answers are gzipped for clients that accept it; grpc-js servers
// send gRPC answers uncompressed whatever they are told).
//
// JSON/HTTP:
// - `GET /recipes/:id?size=N`: a recipe document, its JSON N bytes long.
// - `POST /work` with `{ "ms": N, "mode": "cpu" | "wait" }`: burns or waits N ms; answers `{ ms, mode }`.
// - `GET /recipes?count=N&size=S&intervalMs=I`: N recipes as JSON lines (NDJSON), each written
//   (and flushed) as it is made, I ms apart: the client sees the first one before the last exists.
// - `GET /health`.
// gRPC: faultline.recipes.v1.Recipes (GetRecipe, Work, ListRecipes) and grpc.health.v1.Health/Check.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import { constants as zlibConstants, createGzip, gzipSync } from 'node:zlib';
import type * as Grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';
import { MAX_COUNT, MAX_ID, MAX_MS, MAX_SIZE, protoOptions, recipe, recipeProto } from './recipes.ts';

const host = process.env.HOST ?? '127.0.0.1';
const httpPort = process.env.HTTP_PORT ? Number(process.env.HTTP_PORT) : undefined;
const grpcPort = process.env.GRPC_PORT ? Number(process.env.GRPC_PORT) : undefined;
const name = process.env.NAME || String(process.pid);
const gzip = process.env.COMPRESSION === 'gzip';
const SERVED_BY = 'x-served-by';

/** Burns CPU for `ms` milliseconds on this thread, as a synchronous handler doing real compute does. */
function burn(ms: number): number {
  const until = performance.now() + ms;
  let x = 1;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) x = (x * 48271) % 2147483647;
  }
  return x;
}

/** Does `ms` of work the way `mode` says, then calls `done`. */
function work(ms: number, mode: 'cpu' | 'wait', done: () => void): void {
  if (mode === 'wait') {
    setTimeout(done, ms);
    return;
  }
  burn(ms);
  done();
}

/** A whole number in 0 … max, or the message saying what was wrong. */
function wholeNumber(field: string, value: unknown, max: number): number | string {
  const n = typeof value === 'string' ? (value === '' ? NaN : Number(value)) : value;
  if (typeof n !== 'number' || !Number.isInteger(n) || n < 0 || n > max) return `'${field}' must be a whole number from 0 to ${max}, got ${JSON.stringify(value)}`;
  return n;
}

/** Checks a mode: empty means `cpu`. */
function workMode(value: unknown): 'cpu' | 'wait' | string {
  if (value === undefined || value === '' || value === 'cpu') return 'cpu';
  if (value === 'wait') return 'wait';
  return `'mode' must be 'cpu' or 'wait', got ${JSON.stringify(value)}`;
}

/** What one streaming answer writes to: its items in order, with back-pressure and a way to tell the caller left. */
interface ItemSink {
  /** Writes item k (1-based); false when the transport wants `onDrain` first. */
  write(k: number): boolean;
  onDrain(resume: () => void): void;
  /** Whether the caller went away (cancelled, disconnected). */
  gone(): boolean;
  end(): void;
}

/** Writes items 1 … count to `sink`, `intervalMs` apart (the first at once), respecting back-pressure. */
function streamItems(count: number, intervalMs: number, sink: ItemSink): void {
  let k = 1;
  const next = (): void => {
    while (k <= count) {
      if (sink.gone()) return;
      const more = sink.write(k++);
      if (k > count) break;
      if (intervalMs > 0) {
        setTimeout(next, intervalMs);
        return;
      }
      if (!more) {
        sink.onDrain(next);
        return;
      }
    }
    if (!sink.gone()) sink.end();
  };
  next();
}

// ---- JSON over HTTP ----

function accepts(req: IncomingMessage): boolean {
  return gzip && /\bgzip\b/.test(req.headers['accept-encoding'] ?? '');
}

function send(req: IncomingMessage, res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  if (accepts(req)) {
    const packed = gzipSync(text);
    res.writeHead(status, { 'content-type': 'application/json', 'content-encoding': 'gzip', 'content-length': packed.length, [SERVED_BY]: name });
    res.end(packed);
    return;
  }
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), [SERVED_BY]: name });
  res.end(text);
}

function listRecipes(req: IncomingMessage, res: ServerResponse, count: number, size: number, intervalMs: number): void {
  const packed = accepts(req);
  res.writeHead(200, { 'content-type': 'application/x-ndjson', [SERVED_BY]: name, ...(packed ? { 'content-encoding': 'gzip' } : {}) });
  let gone = false;
  res.once('close', () => (gone = true));
  if (!packed) {
    streamItems(count, intervalMs, {
      write: (k) => res.write(`${JSON.stringify(recipe(k, size))}\n`),
      onDrain: (resume) => res.once('drain', resume),
      gone: () => gone,
      end: () => res.end(),
    });
    return;
  }
  const z = createGzip();
  z.pipe(res);
  streamItems(count, intervalMs, {
    write: (k) => {
      const more = z.write(`${JSON.stringify(recipe(k, size))}\n`);
      // Each line leaves at once, not when the compressor's window fills.
      z.flush(zlibConstants.Z_SYNC_FLUSH);
      return more;
    },
    onDrain: (resume) => z.once('drain', resume),
    gone: () => gone,
    end: () => z.end(),
  });
}

function handle(req: IncomingMessage, res: ServerResponse, body: string): void {
  const url = new URL(req.url ?? '/', 'http://x');
  const q = (field: string, max: number) => wholeNumber(field, url.searchParams.get(field) ?? '0', max);
  if (url.pathname === '/health') return send(req, res, 200, { ok: true, servedBy: name });
  if (url.pathname === '/work' && req.method === 'POST') {
    let args: { ms?: unknown; mode?: unknown };
    try {
      args = JSON.parse(body || '{}') as typeof args;
    } catch {
      return send(req, res, 400, { error: `the body of POST /work must be JSON such as {"ms":2,"mode":"cpu"}, got ${JSON.stringify(body.slice(0, 80))}` });
    }
    const ms = wholeNumber('ms', args.ms ?? 0, MAX_MS);
    const mode = workMode(args.mode);
    if (typeof ms === 'string') return send(req, res, 400, { error: ms });
    if (mode !== 'cpu' && mode !== 'wait') return send(req, res, 400, { error: mode });
    return work(ms, mode, () => send(req, res, 200, { ms, mode }));
  }
  if (url.pathname === '/recipes' && req.method === 'GET') {
    const count = q('count', MAX_COUNT);
    const size = q('size', MAX_SIZE);
    const intervalMs = q('intervalMs', MAX_MS);
    for (const v of [count, size, intervalMs]) if (typeof v === 'string') return send(req, res, 400, { error: v });
    return listRecipes(req, res, count as number, size as number, intervalMs as number);
  }
  const m = /^\/recipes\/(\d{1,9})$/.exec(url.pathname);
  if (m && req.method === 'GET') {
    const size = q('size', MAX_SIZE);
    if (typeof size === 'string') return send(req, res, 400, { error: size });
    return send(req, res, 200, recipe(Number(m[1]), size));
  }
  send(req, res, 404, { error: `no route ${req.method ?? ''} ${url.pathname}; try GET /recipes/ID?size=N, POST /work, GET /recipes?count=N, GET /health` });
}

function startHttp(port: number): Promise<void> {
  const server = createServer((req, res) => {
    let body = '';
    req.setEncoding('utf8');
    req.on('data', (chunk: string) => (body += chunk));
    req.once('end', () => handle(req, res, body));
  });
  // Longer than any client's idle timeout, so the client closes idle connections, never a race.
  server.keepAliveTimeout = 65_000;
  server.headersTimeout = 66_000;
  stops.push(() => {
    server.close();
    server.closeAllConnections();
  });
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, host, () => resolve());
  });
}

// ---- gRPC ----

const require = createRequire(import.meta.url);

async function startGrpc(port: number): Promise<void> {
  const grpc = require('@grpc/grpc-js') as typeof Grpc;
  const loader = require('@grpc/proto-loader') as typeof ProtoLoader;
  const defs = loader.loadSync([fileURLToPath(recipeProto), fileURLToPath(new URL('./health.proto', import.meta.url))], protoOptions);
  const server = new grpc.Server();
  const servedBy = new grpc.Metadata();
  servedBy.set(SERVED_BY, name);
  const invalid = (details: string) => ({ code: grpc.status.INVALID_ARGUMENT, details });

  const recipes: Grpc.UntypedServiceImplementation = {
    GetRecipe: (call: Grpc.ServerUnaryCall<{ id: number; size: number }, unknown>, callback: Grpc.sendUnaryData<unknown>) => {
      const { id, size } = call.request;
      call.sendMetadata(servedBy);
      if (id > MAX_ID) return callback(invalid(`'id' must be a whole number from 0 to ${MAX_ID}, got ${id}`));
      if (size > MAX_SIZE) return callback(invalid(`'size' must be a whole number from 0 to ${MAX_SIZE}, got ${size}`));
      callback(null, recipe(id, size));
    },
    Work: (call: Grpc.ServerUnaryCall<{ ms: number; mode: string }, unknown>, callback: Grpc.sendUnaryData<unknown>) => {
      const { ms } = call.request;
      const mode = workMode(call.request.mode);
      call.sendMetadata(servedBy);
      if (ms > MAX_MS) return callback(invalid(`'ms' must be a whole number from 0 to ${MAX_MS}, got ${ms}`));
      if (mode !== 'cpu' && mode !== 'wait') return callback(invalid(mode));
      work(ms, mode, () => callback(null, { ms, mode }));
    },
    ListRecipes: (call: Grpc.ServerWritableStream<{ count: number; size: number; intervalMs: number }, unknown>) => {
      const { count, size, intervalMs } = call.request;
      call.sendMetadata(servedBy);
      const problem = count > MAX_COUNT ? `'count' must be at most ${MAX_COUNT}, got ${count}` : size > MAX_SIZE ? `'size' must be at most ${MAX_SIZE}, got ${size}` : intervalMs > MAX_MS ? `'intervalMs' must be at most ${MAX_MS}, got ${intervalMs}` : undefined;
      if (problem) return void call.emit('error', invalid(problem));
      let gone = false;
      call.once('cancelled', () => (gone = true));
      streamItems(count, intervalMs, {
        write: (k) => call.write(recipe(k, size)),
        onDrain: (resume) => call.once('drain', resume),
        gone: () => gone,
        end: () => call.end(),
      });
    },
  };
  const health: Grpc.UntypedServiceImplementation = {
    Check: (call: Grpc.ServerUnaryCall<{ service: string }, unknown>, callback: Grpc.sendUnaryData<unknown>) => {
      const { service } = call.request;
      if (service === '' || service === 'faultline.recipes.v1.Recipes' || service === 'grpc.health.v1.Health') return callback(null, { status: 'SERVING' });
      callback({ code: grpc.status.NOT_FOUND, details: `unknown service '${service}'; this server has faultline.recipes.v1.Recipes` });
    },
  };
  const pkg = grpc.loadPackageDefinition(defs) as unknown as {
    faultline: { recipes: { v1: { Recipes: Grpc.ServiceClientConstructor } } };
    grpc: { health: { v1: { Health: Grpc.ServiceClientConstructor } } };
  };
  server.addService(pkg.faultline.recipes.v1.Recipes.service, recipes);
  server.addService(pkg.grpc.health.v1.Health.service, health);
  stops.push(() => server.forceShutdown());
  const address = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  await new Promise<number>((resolve, reject) => server.bindAsync(address, grpc.ServerCredentials.createInsecure(), (err, bound) => (err ? reject(err) : resolve(bound))));
}

// ---- the process ----

const stops: (() => void)[] = [];

async function main(): Promise<void> {
  if (httpPort === undefined && grpcPort === undefined) throw new Error('give HTTP_PORT, GRPC_PORT or both: the ports to serve JSON/HTTP and gRPC on');
  if (httpPort !== undefined) await startHttp(httpPort);
  if (grpcPort !== undefined) await startGrpc(grpcPort);
  const on = [httpPort !== undefined ? `http ${host}:${httpPort}` : '', grpcPort !== undefined ? `grpc ${host}:${grpcPort}` : ''].filter(Boolean).join(', ');
  process.stdout.write(`recipe-service ${name} pid ${process.pid} listening: ${on}\n`);
}

main().catch((err: unknown) => {
  process.stderr.write(`recipe-service ${name}: ${err instanceof Error ? err.message : String(err)}\n`);
  process.exit(1);
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    for (const stop of stops) stop();
    setTimeout(() => process.exit(0), 200).unref();
  });
}

// Exit when the process that started us is gone (its pid changes as we are re-parented), so a
// harness killed with SIGKILL leaves no service behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
