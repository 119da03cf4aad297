import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { Wait } from '../../harness/runtime/wait.ts';
import { parseDuration, type Duration } from '../../harness/base/duration.ts';
import { durationSchema } from '../../harness/base/schema-helpers.ts';
import { backendHealthPath, backendOptionsShape, backendTargetProblem, balancerPort, grpcBackends, loadBalancerTopology, weightsProblem, type BackendAddress, type BackendOptions } from '../load-balancer.ts';
import { grpcHealthProbe } from '../recipe-service/grpc-health.ts';
import type { TargetDefinition } from '../target.ts';

/** HAProxy's balance algorithms. `uri` and `hdr` hash a request key, `source` the client address. */
export type HaproxyBalance = 'roundrobin' | 'static-rr' | 'leastconn' | 'first' | 'source' | 'uri' | 'hdr' | 'random';

export interface HaproxyOptions extends BackendOptions {
  /** Algorithm; default `roundrobin`. `random` is power of two choices (`random(2)`). */
  balance?: HaproxyBalance;
  /** With `balance: 'hdr'`: the request header hashed, e.g. `x-user`. */
  header?: string;
  /** For `source`, `uri`, `hdr`: `map-based` (modulo; HAProxy's default) or `consistent`. */
  hashType?: 'map-based' | 'consistent';
  /** Active health checks on `/health` (with a `backend` command: its `ready.http` path, else a TCP connect); `false` turns them off. Defaults: every 1s, down after 2 failures, up after 2 successes. */
  healthCheck?: false | { inter?: Duration; fall?: number; rise?: number };
  /** Requests served at once per backend (HAProxy `maxconn`); beyond it requests queue. Default none (`first` needs it: default 10 there). */
  maxConnPerServer?: number;
  /** How long a request may wait in that queue before a 503. Default `5s`. */
  queueTimeout?: Duration;
  /** Keep connections to backends open between requests. Default true. */
  keepAlive?: boolean;
  /** Connection attempts retried after a failure (HAProxy `retries`). Default 3, HAProxy's own. */
  retries?: number;
  /** Retry on another backend instead of the same one (`option redispatch`). Default false, HAProxy's own. */
  redispatch?: boolean;
  /**
   * With `backendTarget: 'recipe-service'` (gRPC backends): `h2` (default) terminates HTTP/2 on
   * both sides (`mode http`, `proto h2` on the bind and the servers) and balances every call;
   * `tcp` (`mode tcp`) balances connections, so all the calls of one channel reach one backend.
   */
  mode?: 'h2' | 'tcp';
}

const hashed = new Set<HaproxyBalance>(['source', 'uri', 'hdr']);

const options = z
  .strictObject({
    ...backendOptionsShape,
    balance: z.enum(['roundrobin', 'static-rr', 'leastconn', 'first', 'source', 'uri', 'hdr', 'random']).optional(),
    header: z.string().regex(/^[A-Za-z0-9-]+$/, 'a header name: letters, digits and -').optional(),
    hashType: z.enum(['map-based', 'consistent']).optional(),
    healthCheck: z.union([z.literal(false), z.strictObject({ inter: durationSchema.optional(), fall: z.number().int().min(1).max(100).optional(), rise: z.number().int().min(1).max(100).optional() })]).optional(),
    maxConnPerServer: z.number().int().min(1).max(8000).optional(),
    queueTimeout: durationSchema.optional(),
    keepAlive: z.boolean().optional(),
    retries: z.number().int().min(0).max(10).optional(),
    redispatch: z.boolean().optional(),
    mode: z.enum(['h2', 'tcp']).optional(),
  })
  .check((ctx) => {
    const o = ctx.value;
    const issue = (path: string, message: string) => ctx.issues.push({ code: 'custom', input: o, path: [path], message });
    const w = weightsProblem(o);
    if (w) issue('weights', w);
    if ((o.balance === 'hdr') !== (o.header !== undefined)) issue('header', o.balance === 'hdr' ? "balance 'hdr' needs header: the header to hash" : "header goes with balance: 'hdr'");
    if (o.hashType !== undefined && !hashed.has(o.balance ?? 'roundrobin')) issue('hashType', `hashType applies to source, uri and hdr, not ${o.balance ?? 'roundrobin'}`);
    const b = backendTargetProblem(o);
    if (b) issue('backendTarget', b);
    if (o.mode !== undefined && !grpcBackends(o)) issue('mode', "mode chooses how gRPC is balanced: it goes with backendTarget: 'recipe-service'");
    if (o.mode === 'tcp' && (o.balance === 'uri' || o.balance === 'hdr')) issue('balance', `mode 'tcp' sees no requests, so it cannot hash a ${o.balance === 'uri' ? 'path' : 'header'}: use roundrobin, leastconn, source, first, random or static-rr`);
  });

/** The `haproxy.cfg` for these options: only enums, numbers and checked names reach it. */
export function renderHaproxyConfig(o: HaproxyOptions, listen: { host: string; port: number }, backends: BackendAddress[]): string {
  const balance = o.balance ?? 'roundrobin';
  const algorithm = balance === 'hdr' ? `hdr(${o.header})` : balance === 'random' ? 'random(2)' : balance;
  const check = o.healthCheck === false ? undefined : o.healthCheck ?? {};
  const maxconn = o.maxConnPerServer ?? (balance === 'first' ? 10 : undefined);
  // gRPC backends: HTTP/2 on both sides (per call), or plain TCP (per connection).
  const mode = grpcBackends(o) ? (o.mode ?? 'h2') : 'http';
  const h2 = mode === 'h2' ? ' proto h2' : '';
  const server = (b: BackendAddress) =>
    [
      `  server ${b.name} ${b.host}:${b.port}${h2}`,
      `weight ${b.weight}`,
      ...(maxconn !== undefined ? [`maxconn ${maxconn}`] : []),
      ...(check ? [`check inter ${parseDuration(check.inter ?? '1s')}ms fall ${check.fall ?? 2} rise ${check.rise ?? 2}`] : []),
    ].join(' ');
  return [
    'global',
    '  maxconn 4000',
    // A soft stop in TCP mode waits for every client connection to end, and a gRPC channel's
    // connection outlives its calls (grpc-js keeps it open after the client closes): bound the wait.
    ...(mode === 'tcp' ? ['  hard-stop-after 1s'] : []),
    'defaults',
    `  mode ${mode === 'tcp' ? 'tcp' : 'http'}`,
    '  timeout connect 1s',
    '  timeout client 30s',
    '  timeout server 30s',
    `  timeout queue ${parseDuration(o.queueTimeout ?? '5s')}ms`,
    ...(mode === 'tcp' ? [] : [o.keepAlive === false ? '  option http-server-close' : '  option http-keep-alive']),
    `  retries ${o.retries ?? 3}`,
    ...(o.redispatch ? ['  option redispatch'] : []),
    'frontend fe',
    `  bind ${listen.host}:${listen.port}${h2}`,
    '  default_backend be',
    'backend be',
    `  balance ${algorithm}`,
    ...(hashed.has(balance) ? [`  hash-type ${o.hashType ?? 'map-based'}`] : []),
    ...(check && backendHealthPath(o) !== undefined ? [`  option httpchk GET ${backendHealthPath(o)}`, '  http-check expect status 200'] : []),
    ...backends.map(server),
    '',
  ].join('\n');
}

const parseHaproxyVersion = (output: string) => /version (\S+)/i.exec(output)?.[1];

function haproxyVersion(): string {
  const r = spawnSync('haproxy', ['-v'], { encoding: 'utf8' });
  return parseHaproxyVersion(r.stdout ?? '') ?? 'unknown';
}

export const haproxyTarget: TargetDefinition<HaproxyOptions> = {
  name: 'haproxy',
  description: 'HAProxy balancing N http-service (or gRPC recipe-service) backends, each behind its own link lb->backend-i',
  options,
  topology: (o) =>
    loadBalancerTopology(o, (backends) => ({
      name: 'lb',
      target: 'haproxy',
      ports: [balancerPort(o)],
      protocols: { [balancerPort(o)]: balancerPort(o) },
      stopSignal: 'SIGUSR1',
      local: (ctx) => ({
        command: 'haproxy',
        args: ['-db', '-f', join(ctx.dir, 'haproxy.cfg')],
        files: { 'haproxy.cfg': renderHaproxyConfig(o, { host: ctx.host, port: ctx.ports[balancerPort(o)]! }, backends(ctx)) },
      }),
      container(ctx) {
        return { image: 'haproxy', ...this.local(ctx) };
      },
      ready: grpcBackends(o) ? Wait.forProbe('gRPC health check SERVING through the balancer', grpcHealthProbe) : Wait.forHttp('/health'),
      program: { name: 'haproxy', version: async () => haproxyVersion(), versionArgs: ['-v'], parseVersion: parseHaproxyVersion },
    })),
};

/**
 * A design of HAProxy in front of N http-service backends, e.g. `haproxy({ balance: 'leastconn', backends: 3 })`,
 * or of gRPC backends: `haproxy({ backends: 3, backendTarget: 'recipe-service', mode: 'tcp' })`.
 */
export function haproxy(options: HaproxyOptions = {}) {
  return { target: 'haproxy', options } as const;
}
