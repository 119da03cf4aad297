import { describe, expect, it } from 'vitest';
import { haproxyTarget, renderHaproxyConfig } from './haproxy/haproxy.ts';
import { nginxTarget, renderNginxConfig } from './nginx/nginx.ts';

const backends = [1, 2, 3].map((i) => ({ name: `backend-${i}`, host: '127.0.0.1', port: 9000 + i, weight: i }));
const listen = { host: '127.0.0.1', port: 8080 };

describe('haproxy options', () => {
  it('renders the algorithm, hash type, weights and checks it was given', () => {
    const cfg = renderHaproxyConfig({ balance: 'uri', hashType: 'consistent', healthCheck: { inter: '500ms', fall: 3, rise: 1 } }, listen, backends);
    expect(cfg).toMatch(/^\s+balance uri$/m);
    expect(cfg).toMatch(/^\s+hash-type consistent$/m);
    expect(cfg).toMatch(/server backend-3 127\.0\.0\.1:9003 weight 3 check inter 500ms fall 3 rise 1/);
    expect(renderHaproxyConfig({ balance: 'random' }, listen, backends)).toMatch(/balance random\(2\)/);
    expect(renderHaproxyConfig({ balance: 'hdr', header: 'x-user' }, listen, backends)).toMatch(/balance hdr\(x-user\)/);
    expect(renderHaproxyConfig({ balance: 'first' }, listen, backends)).toMatch(/maxconn 10/);
    expect(renderHaproxyConfig({ healthCheck: false }, listen, backends)).not.toMatch(/check/);
  });

  it('rejects options that do not fit together, naming the field', () => {
    const paths = (o: unknown) => haproxyTarget.options.safeParse(o).error?.issues.map((i) => i.path.join('.'));
    expect(paths({ balance: 'hdr' })).toEqual(['header']);
    expect(paths({ balance: 'roundrobin', hashType: 'consistent' })).toEqual(['hashType']);
    expect(paths({ backends: 3, weights: [1, 2] })).toEqual(['weights']);
    expect(paths({ balance: 'hdr', header: 'x-user"; evil' })).toEqual(['header']);
  });
});

describe('nginx options', () => {
  it('renders the method, passive checks and keep-alive', () => {
    const cfg = renderNginxConfig({ balance: 'hash', consistent: true, failTimeout: '2500ms', maxFails: 3 }, '/d', listen, backends);
    expect(cfg).toMatch(/hash \$request_uri consistent;/);
    expect(cfg).toMatch(/server 127\.0\.0\.1:9002 weight=2 max_fails=3 fail_timeout=3s; # backend-2/);
    expect(cfg).toMatch(/keepalive 64;/);
    expect(renderNginxConfig({ balance: 'random_two_least_conn' }, '/d', listen, backends)).toMatch(/random two least_conn;/);
    expect(renderNginxConfig({ keepalive: 0 }, '/d', listen, backends)).not.toMatch(/keepalive \d/);
  });

  it('rejects options that do not fit together, naming the field', () => {
    const paths = (o: unknown) => nginxTarget.options.safeParse(o).error?.issues.map((i) => i.path.join('.'));
    expect(paths({ balance: 'least_conn', consistent: true })).toEqual(['consistent']);
    expect(paths({ balance: 'hash', hashKey: 'request_uri' })).toEqual(['hashKey']);
    expect(paths({ balance: 'hash', hashKey: '$uri; evil' })).toEqual(['hashKey']);
  });
});

describe('balancers in front of gRPC backends', () => {
  const grpc = { backends: 3, backendTarget: 'recipe-service' } as const;

  it('haproxy h2 (the default for gRPC backends) speaks HTTP/2 on the bind and to every server, with TCP checks', () => {
    const cfg = renderHaproxyConfig(grpc, listen, backends);
    expect(renderHaproxyConfig({ ...grpc, mode: 'h2' }, listen, backends)).toBe(cfg);
    expect(cfg).toMatch(/^\s+mode http$/m);
    expect(cfg).toMatch(/^\s+bind 127\.0\.0\.1:8080 proto h2$/m);
    expect(cfg).toMatch(/^\s+server backend-1 127\.0\.0\.1:9001 proto h2 weight 1 check inter 1000ms fall 2 rise 2$/m);
    expect(cfg).not.toMatch(/httpchk/);
  });

  it('haproxy tcp balances connections: mode tcp, no HTTP options, no h2', () => {
    const cfg = renderHaproxyConfig({ ...grpc, mode: 'tcp' }, listen, backends);
    expect(cfg).toMatch(/^\s+mode tcp$/m);
    expect(cfg).not.toMatch(/mode http|proto h2|http-keep-alive|http-server-close|httpchk/);
    expect(cfg).toMatch(/^\s+hard-stop-after 1s$/m);
    expect(renderHaproxyConfig(grpc, listen, backends)).not.toMatch(/hard-stop-after/);
    expect(cfg).toMatch(/^\s+bind 127\.0\.0\.1:8080$/m);
    expect(cfg).toMatch(/^\s+server backend-2 127\.0\.0\.1:9002 weight 2 check/m);
  });

  it('haproxy with http-service backends is unchanged: mode http, HTTP/1.1, httpchk', () => {
    const cfg = renderHaproxyConfig({}, listen, backends);
    expect(cfg).toMatch(/^\s+mode http$/m);
    expect(cfg).not.toMatch(/proto h2/);
    expect(cfg).toMatch(/option httpchk GET \/health/);
  });

  it('nginx passes every call with grpc_pass over an HTTP/2 listener', () => {
    const cfg = renderNginxConfig({ ...grpc, tries: 3, readTimeout: '2s' }, '/d', listen, backends);
    expect(cfg).toMatch(/listen 127\.0\.0\.1:8080 http2;/);
    expect(cfg).toMatch(/grpc_pass grpc:\/\/backends;/);
    expect(cfg).toMatch(/grpc_next_upstream_tries 3;/);
    expect(cfg).toMatch(/grpc_read_timeout 2000ms;/);
    expect(cfg).toMatch(/keepalive 64;/);
    expect(cfg).not.toMatch(/proxy_pass|proxy_http_version/);
    expect(renderNginxConfig({}, '/d', listen, backends)).not.toMatch(/http2|grpc_/);
  });

  it('puts recipe-service backends and a grpc entry on the lb port `grpc`', () => {
    for (const t of [haproxyTarget.topology({ ...grpc, mode: 'tcp' }), nginxTarget.topology(grpc)]) {
      expect(t.services.map((s) => [s.name, s.target, s.ports])).toEqual([
        ['backend-1', 'recipe-service', ['grpc']], ['backend-2', 'recipe-service', ['grpc']], ['backend-3', 'recipe-service', ['grpc']], ['lb', t.services[3]!.target, ['grpc']],
      ]);
      expect(t.services[3]!.protocols).toEqual({ grpc: 'grpc' });
      expect(t.entries).toEqual([{ protocol: 'grpc', endpoints: [{ service: 'lb', port: 'grpc' }] }]);
    }
    expect(haproxyTarget.topology({}).entries).toEqual([{ protocol: 'http', endpoints: [{ service: 'lb', port: 'http' }] }]);
  });

  it('rejects gRPC options that do not fit, naming the field', () => {
    const haproxyPaths = (o: unknown) => haproxyTarget.options.safeParse(o).error?.issues.map((i) => i.path.join('.'));
    const nginxPaths = (o: unknown) => nginxTarget.options.safeParse(o).error?.issues.map((i) => i.path.join('.'));
    expect(haproxyPaths({ mode: 'tcp' })).toEqual(['mode']);
    expect(haproxyPaths({ ...grpc, mode: 'tcp', balance: 'uri' })).toEqual(['balance']);
    expect(haproxyPaths({ ...grpc, mode: 'udp' })).toEqual(['mode']);
    expect(haproxyPaths({ ...grpc, backend: { target: 'command', options: { run: 'node s.js', port: 'PORT' } } })).toEqual(['backendTarget']);
    expect(nginxPaths({ backendTarget: 'redis' })).toEqual(['backendTarget']);
    expect(haproxyPaths({ ...grpc, mode: 'h2', balance: 'uri' })).toBeUndefined();
    expect(nginxPaths(grpc)).toBeUndefined();
  });
});
