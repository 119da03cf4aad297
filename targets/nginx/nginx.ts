import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { z } from 'zod';
import { Wait, type WaitStrategy } from '../../harness/runtime/wait.ts';
import type { LocalContext, ServiceSpec } from '../../harness/runtime/service-spec.ts';
import { parseDuration, type Duration } from '../../harness/base/duration.ts';
import { durationSchema } from '../../harness/base/schema-helpers.ts';
import { backendOptionsShape, backendTargetProblem, balancerPort, grpcBackends, loadBalancerTopology, weightsProblem, type BackendAddress, type BackendOptions } from '../load-balancer.ts';
import { grpcHealthProbe } from '../recipe-service/grpc-health.ts';
import type { TargetDefinition } from '../target.ts';

/** Nginx's upstream methods; `round_robin` is its (weighted) default. */
export type NginxBalance = 'round_robin' | 'least_conn' | 'ip_hash' | 'hash' | 'random_two_least_conn';

export interface NginxOptions extends BackendOptions {
  /** Method; default `round_robin`. */
  balance?: NginxBalance;
  /** With `balance: 'hash'`: the key, an nginx variable such as `$request_uri` (default) or `$remote_addr`. */
  hashKey?: string;
  /** With `balance: 'hash'`: ketama consistent hashing. Default false (modulo). */
  consistent?: boolean;
  /** Passive health: failures within `failTimeout` that mark a backend down for `failTimeout` (whole seconds). Defaults 1 and `10s`. */
  maxFails?: number;
  failTimeout?: Duration;
  /** Retries on the next backend after an error or timeout (`proxy_next_upstream_tries`); 1 = no retry. Default 2. */
  tries?: number;
  /** Requests at once per backend (`max_conns`); default unlimited. */
  maxConnPerServer?: number;
  /** Idle keep-alive connections kept to backends (`keepalive`); 0 turns keep-alive off. Default 64. */
  keepalive?: number;
  /** Connect and read timeouts towards a backend. Defaults `1s` and `10s`. */
  connectTimeout?: Duration;
  readTimeout?: Duration;
  /** nginx worker processes. Default 1. */
  workers?: number;
}

const options = z
  .strictObject({
    ...backendOptionsShape,
    balance: z.enum(['round_robin', 'least_conn', 'ip_hash', 'hash', 'random_two_least_conn']).optional(),
    hashKey: z.string().regex(/^\$[a-z_]+$/, 'an nginx variable such as $request_uri').optional(),
    consistent: z.boolean().optional(),
    maxFails: z.number().int().min(0).max(100).optional(),
    failTimeout: durationSchema.optional(),
    tries: z.number().int().min(1).max(32).optional(),
    maxConnPerServer: z.number().int().min(1).max(100_000).optional(),
    keepalive: z.number().int().min(0).max(10_000).optional(),
    connectTimeout: durationSchema.optional(),
    readTimeout: durationSchema.optional(),
    workers: z.number().int().min(1).max(16).optional(),
  })
  .check((ctx) => {
    const o = ctx.value;
    const issue = (path: string, message: string) => ctx.issues.push({ code: 'custom', input: o, path: [path], message });
    const w = weightsProblem(o);
    if (w) issue('weights', w);
    if (o.balance !== 'hash' && (o.hashKey !== undefined || o.consistent !== undefined)) issue(o.hashKey !== undefined ? 'hashKey' : 'consistent', "hashKey and consistent go with balance: 'hash'");
    if (o.balance === 'ip_hash' && o.weights?.some((x) => x === 0)) issue('weights', 'ip_hash takes weights of 1 or more');
    const b = backendTargetProblem(o);
    if (b) issue('backendTarget', b);
  });

const method: Record<NginxBalance, (o: NginxOptions) => string | undefined> = {
  round_robin: () => undefined,
  least_conn: () => 'least_conn;',
  ip_hash: () => 'ip_hash;',
  hash: (o) => `hash ${o.hashKey ?? '$request_uri'}${o.consistent ? ' consistent' : ''};`,
  random_two_least_conn: () => 'random two least_conn;',
};

const ms = (d: Duration | undefined, fallback: string) => `${parseDuration(d ?? fallback)}ms`;

/** A whole `nginx.conf`: one foreground master with its pid, logs and temp files in `dir`, and `http` as its http block's body. */
export function nginxConfig(dir: string, workers: number, http: string): string {
  return `daemon off;
worker_processes ${workers};
pid ${dir}/nginx.pid;
error_log ${dir}/error.log warn;
events { worker_connections 4096; }
http {
  access_log off;
  client_body_temp_path ${dir}/body;
  proxy_temp_path ${dir}/proxy;
  fastcgi_temp_path ${dir}/fastcgi;
  uwsgi_temp_path ${dir}/uwsgi;
  scgi_temp_path ${dir}/scgi;
${http}}
`;
}

/** The load balancer's `nginx.conf` for these options: only enums, numbers and checked names reach it. */
export function renderNginxConfig(o: NginxOptions, dir: string, listen: { host: string; port: number }, backends: BackendAddress[]): string {
  const m = method[o.balance ?? 'round_robin'](o);
  const keepalive = o.keepalive ?? 64;
  const grpc = grpcBackends(o);
  const server = (b: BackendAddress) =>
    `    server ${b.host}:${b.port} weight=${Math.max(b.weight, 1)} max_fails=${o.maxFails ?? 1} fail_timeout=${Math.max(1, Math.round(parseDuration(o.failTimeout ?? '10s')! / 1000))}s${o.maxConnPerServer ? ` max_conns=${o.maxConnPerServer}` : ''}${b.weight === 0 ? ' down' : ''}; # ${b.name}`;
  return nginxConfig(dir, o.workers ?? 1, `  upstream backends {
${m ? `    ${m}\n` : ''}${backends.map(server).join('\n')}
${keepalive > 0 ? `    keepalive ${keepalive};\n` : ''}  }
  server {
    listen ${listen.host}:${listen.port}${grpc ? ' http2' : ''};
    keepalive_requests 100000;
    location / {
${grpc ? grpcLocation(o) : `      proxy_pass http://backends;
      proxy_http_version 1.1;
      proxy_set_header Connection "";
      proxy_next_upstream error timeout http_502 http_503 http_504;
      proxy_next_upstream_tries ${o.tries ?? 2};
      proxy_connect_timeout ${ms(o.connectTimeout, '1s')};
      proxy_read_timeout ${ms(o.readTimeout, '10s')};
`}    }
  }
`);
}

/**
 * The location body for gRPC backends: cleartext HTTP/2 on both sides (the listener says
 * `http2`), every call passed on its own (`grpc_pass`) over kept-alive backend connections.
 * Calls are POSTs: nginx passes one to the next backend only when it was not sent yet
 * (connection refused), so calls in flight on a dying backend fail (UNAVAILABLE).
 */
function grpcLocation(o: NginxOptions): string {
  return `      grpc_pass grpc://backends;
      grpc_next_upstream error timeout;
      grpc_next_upstream_tries ${o.tries ?? 2};
      grpc_connect_timeout ${ms(o.connectTimeout, '1s')};
      grpc_read_timeout ${ms(o.readTimeout, '10s')};
`;
}

const parseNginxVersion = (output: string) => /nginx\/(\S+)/.exec(output)?.[1];

function nginxVersion(): string {
  const r = spawnSync('nginx', ['-v'], { encoding: 'utf8' });
  return parseNginxVersion(`${r.stdout}${r.stderr}`) ?? 'unknown';
}

/** An nginx service: Debian's nginx in the foreground with its config rendered into its own dir. */
export function nginxService(name: string, target: string, ready: WaitStrategy, config: (ctx: LocalContext) => string): ServiceSpec {
  return {
    name,
    target,
    ports: ['http'],
    protocols: { http: 'http' },
    stopSignal: 'SIGQUIT',
    local: (ctx) => ({
      command: 'nginx',
      args: ['-p', ctx.dir, '-c', join(ctx.dir, 'nginx.conf'), '-e', join(ctx.dir, 'error.log')],
      files: { 'nginx.conf': config(ctx) },
    }),
    container(ctx) {
      return { image: 'nginx', ...this.local(ctx) };
    },
    ready,
    program: { name: 'nginx', version: async () => nginxVersion(), versionArgs: ['-v'], parseVersion: parseNginxVersion },
  };
}

export const nginxTarget: TargetDefinition<NginxOptions> = {
  name: 'nginx',
  description: 'nginx balancing N http-service backends (or gRPC recipe-service backends through grpc_pass), each behind its own link lb->backend-i',
  options,
  topology: (o) =>
    loadBalancerTopology(o, (backends) => {
      const port = balancerPort(o);
      const ready = grpcBackends(o) ? Wait.forProbe('gRPC health check SERVING through the balancer', grpcHealthProbe, { port }) : Wait.forHttp('/health');
      return { ...nginxService('lb', 'nginx', ready, (ctx) => renderNginxConfig(o, ctx.dir, { host: ctx.host, port: ctx.ports[port]! }, backends(ctx))), ports: [port], protocols: { [port]: port } };
    }),
};

/**
 * A design of nginx in front of N http-service backends, e.g. `nginx({ balance: 'least_conn', backends: 3 })`,
 * or of gRPC backends balanced per call: `nginx({ backends: 3, backendTarget: 'recipe-service' })`.
 */
export function nginx(options: NginxOptions = {}) {
  return { target: 'nginx', options } as const;
}
