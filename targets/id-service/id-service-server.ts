// One ID service instance: a generator behind node:http. Configured by env: HOST, PORT, NAME
// (the instance's name, e.g. `id-2`), GENERATOR (its options as JSON), JSON_IDS (`string`, the
// default, or `number`: IDs written as bare JSON numbers, as many services do), and for the
// counter-based generators REDIS_HOST / REDIS_PORT. Endpoints:
// - `GET /ids?n=N` (N from 1 to 10,000; default 1): `{ "i", "n", "ids", "waits" }`; `i` names
//   this process (`id-2@<pid>`: a restarted instance numbers its IDs from 0 again), `n` counts
//   the IDs it handed out before this call. 503 `{ "error": "clock-moved-back" | "counter-unavailable" }`
//   when it refuses.
// - `GET /layout`: how to read the time out of its IDs. `GET /health`.
// The service reads the wall clock with Date.now(): a clock fault moves it without its knowing.
import { createServer, type ServerResponse } from 'node:http';
import { setTimeout as sleep } from 'node:timers/promises';
import { ClockMovedBackError, createGenerator, IdIssuer, type GeneratorOptions, type IdLayout } from './generators.ts';
import { IncrIssuer, SegmentIssuer } from './counters.ts';
import { CounterUnavailableError, RedisCounter } from './redis-counter.ts';

/** What GENERATOR holds: a time-based generator's options, or a counter-based one. */
export type ServiceGenerator = GeneratorOptions | { kind: 'redis-incr'; key?: string } | { kind: 'segment'; step: number; key?: string };

const host = process.env.HOST ?? '127.0.0.1';
const port = Number(process.env.PORT ?? 8080);
const name = process.env.NAME ?? 'id';
const self = `${name}@${process.pid}`;
const asNumbers = process.env.JSON_IDS === 'number';
const MAX_BATCH = 10_000;

interface Source {
  layout: IdLayout;
  issue(count: number): Promise<{ ids: string[]; n: number; waits?: { sequence: number; clockBack: number } }>;
}

function source(opts: ServiceGenerator): Source {
  if (opts.kind === 'redis-incr' || opts.kind === 'segment') {
    const counter = new RedisCounter(process.env.REDIS_HOST ?? '127.0.0.1', Number(process.env.REDIS_PORT ?? 6379), opts.key ?? 'faultline:ids');
    const incrBy = (by: number) => counter.incrBy(by);
    const issuer = opts.kind === 'segment' ? new SegmentIssuer(incrBy, opts.step) : new IncrIssuer(incrBy);
    return { layout: { kind: 'counter' }, issue: (count) => issuer.issue(count) };
  }
  const issuer = new IdIssuer(createGenerator(opts, Date.now), { clock: Date.now, sleep: (ms) => sleep(ms) });
  return { layout: issuer.generator.layout, issue: (count) => issuer.issue(count) };
}

const generator = source(JSON.parse(process.env.GENERATOR ?? '{"kind":"uuidv7"}') as ServiceGenerator);

function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text), 'x-served-by': name });
  res.end(text);
}

/** The body of an answer; with JSON_IDS=number the IDs go out unquoted, and a client's JSON.parse rounds those above 2^53. */
function idsBody(out: { ids: string[]; n: number; waits?: object }): string {
  const ids = asNumbers ? `[${out.ids.join(',')}]` : JSON.stringify(out.ids);
  return `{"i":${JSON.stringify(self)},"n":${out.n},"ids":${ids}${out.waits ? `,"waits":${JSON.stringify(out.waits)}` : ''}}`;
}

const server = createServer((req, res) => {
  const url = new URL(req.url ?? '/', 'http://x');
  if (url.pathname === '/health') return send(res, 200, '{"ok":true}');
  if (url.pathname === '/layout') return send(res, 200, JSON.stringify({ i: self, layout: generator.layout }));
  if (url.pathname !== '/ids') return send(res, 404, JSON.stringify({ error: `no route ${url.pathname}: use /ids?n=N, /layout or /health` }));
  const raw = url.searchParams.get('n') ?? '1';
  const count = Number(raw);
  if (!Number.isInteger(count) || count < 1 || count > MAX_BATCH) return send(res, 400, JSON.stringify({ error: `n must be a whole number from 1 to ${MAX_BATCH}, got '${raw}'` }));
  generator.issue(count).then(
    (out) => send(res, 200, idsBody(out)),
    (err: unknown) => {
      if (err instanceof ClockMovedBackError || err instanceof CounterUnavailableError) return send(res, 503, JSON.stringify({ error: err.code, message: err.message }));
      send(res, 500, JSON.stringify({ error: 'internal', message: err instanceof Error ? err.message : String(err) }));
    },
  );
});
server.keepAliveTimeout = 60_000;
server.listen(port, host);

const stop = () => server.close(() => process.exit(0));
process.on('SIGTERM', stop);
process.on('SIGINT', stop);
