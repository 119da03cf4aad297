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
