// The reference HTTP JSON service: endpoints that model real work, quiet (no per-request
// logging), configured by env (HOST, PORT), and every response says which process answered.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);
const pid = String(process.pid);
// What `x-served-by` says: a backend's name when it has one (stable across restarts), else the pid.
const servedBy = process.env.SERVED_BY || pid;
const MAX_MS = 60_000;
const MAX_KB = 64 * 1024;

/** Burns CPU for `ms` milliseconds on this thread (a synchronous handler, like real compute). */
function burn(ms: number): number {
  const until = performance.now() + ms;
  let x = 0;
  while (performance.now() < until) {
    for (let i = 0; i < 1000; i++) x = (x * 1103515245 + 12345) % 2147483648;
  }
  return x;
}

const payloads = new Map<number, Buffer>();
function payload(kb: number): Buffer {
  let b = payloads.get(kb);
  if (!b) {
    b = Buffer.alloc(kb * 1024, 'x');
    if (payloads.size < 64) payloads.set(kb, b);
  }
  return b;
}

const cuisines = ['italian', 'japanese', 'mexican', 'indian', 'french', 'thai'];
const ingredients = ['flour', 'egg', 'butter', 'garlic', 'onion', 'tomato', 'rice', 'basil', 'chili', 'lime', 'ginger', 'cream'];

/** A recipe-shaped document, deterministic for its id, so responses are comparable across designs. */
function recipe(id: number): unknown {
  const pick = (n: number) => ingredients[(id * 7 + n * 3) % ingredients.length]!;
  return {
    id,
    title: `Recipe ${id}`,
    cuisine: cuisines[id % cuisines.length],
    servings: 1 + (id % 6),
    minutes: 10 + ((id * 13) % 80),
    ingredients: Array.from({ length: 4 + (id % 5) }, (_, n) => ({ name: pick(n), grams: 25 * (1 + ((id + n) % 8)) })),
    steps: Array.from({ length: 3 + (id % 4) }, (_, n) => `Step ${n + 1}: combine ${pick(n)} and ${pick(n + 1)}.`),
    servedBy,
  };
}

function send(res: ServerResponse, status: number, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-served-by': servedBy });
  res.end(text);
}

function intParam(url: URL, name: string, max: number): number | string {
  const raw = url.searchParams.get(name) ?? '0';
  const n = Number(raw);
  if (!Number.isInteger(n) || n < 0 || n > max) return `query parameter '${name}' must be a whole number from 0 to ${max}, got '${raw}'`;
  return n;
}

function handle(req: IncomingMessage, res: ServerResponse): void {
  const url = new URL(req.url ?? '/', 'http://x');
  switch (url.pathname) {
    case '/health':
      return send(res, 200, { ok: true, pid });
    case '/work': {
      const ms = intParam(url, 'ms', MAX_MS);
      if (typeof ms === 'string') return send(res, 400, { error: ms });
      burn(ms);
      return send(res, 200, { pid, work: { ms } });
    }
    case '/io': {
      const ms = intParam(url, 'ms', MAX_MS);
      if (typeof ms === 'string') return send(res, 400, { error: ms });
      setTimeout(() => send(res, 200, { pid, io: { ms } }), ms);
      return;
    }
    case '/payload': {
      const kb = intParam(url, 'kb', MAX_KB);
      if (typeof kb === 'string') return send(res, 400, { error: kb });
      const b = payload(kb);
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': b.length, 'x-served-by': servedBy });
      res.end(b);
      return;
    }
  }
  const m = /^\/recipes\/(\d{1,9})$/.exec(url.pathname);
  if (m) return send(res, 200, recipe(Number(m[1])));
  send(res, 404, { error: `no route ${url.pathname}; try /work?ms=N, /io?ms=N, /payload?kb=N, /recipes/ID, /health` });
}

const server = createServer((req, res) => {
  // Bodies are not used; read them to the end so keep-alive connections stay usable.
  req.resume();
  req.once('end', () => handle(req, res));
});
// Longer than any client's idle timeout, so the client closes idle connections, never a race.
server.keepAliveTimeout = 65_000;
server.headersTimeout = 66_000;
server.listen(port, host, () => {
  process.stdout.write(`http-service pid ${pid} listening on ${host}:${port}\n`);
});

for (const sig of ['SIGTERM', 'SIGINT'] as const) {
  process.once(sig, () => {
    server.close(() => process.exit(0));
    server.closeAllConnections();
    setTimeout(() => process.exit(0), 1000).unref();
  });
}

// Exit when the process that started us is gone (its pid changes as we are re-parented), so a
// harness killed with SIGKILL leaves no service behind.
const parent = process.ppid;
setInterval(() => {
  if (process.ppid !== parent) process.exit(0);
}, 1000).unref();
