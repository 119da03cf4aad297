import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { http } from '../../harness/drivers/http-workload.ts';
import { linkNames } from '../../harness/runtime/service-spec.ts';
import { validateScenario } from '../../harness/scenario/validate-scenario.ts';
import { haproxyTarget, renderHaproxyConfig } from '../haproxy/haproxy.ts';
import { nginxTarget } from '../nginx/nginx.ts';
import { command, commandTarget } from './command.ts';

const ctx = { dir: '/tmp/faultline-r-app-x', host: '127.0.0.1', ports: { http: 7001 }, links: {}, advertised: {} };

/** Each problem as `field: message`, as validate-scenario reports them. */
function problems(input: unknown): string[] {
  const r = commandTarget.options.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`);
}

describe('command target options', () => {
  it('accepts a command with each form of port, readiness, env, cwd, name and protocol', () => {
    expect(problems({ run: 'node server.js' })).toEqual([]);
    expect(problems({ run: 'npm start', port: 'APP_PORT', ready: { http: '/health', timeout: '1m' }, env: { NODE_ENV: 'production' }, cwd: tmpdir(), name: 'shop' })).toEqual([]);
    expect(problems({ run: './server', port: 8080, ready: { log: 'listening on' } })).toEqual([]);
    expect(problems({ run: './broker', ready: { tcp: true }, protocol: 'amqp' })).toEqual([]);
  });

  it('names run when it is missing or empty', () => {
    expect(problems({})).toEqual(['run: Invalid input: expected string, received undefined']);
    expect(problems({ run: '  ' })).toEqual(["run: the command is empty; give the command line that starts the service, e.g. 'node server.js'"]);
  });

  it('names ready when its kind is unknown, two kinds are given, or a value is wrong, listing the forms', () => {
    const forms = "ready: give exactly one of { http: '/health' }, { log: 'listening' } or { tcp: true }, with an optional timeout such as '30s'; got ";
    expect(problems({ run: 'x', ready: { grpc: true } })).toEqual([`${forms}{"grpc":true}`]);
    expect(problems({ run: 'x', ready: { http: '/h', log: 'up' } })).toEqual([`${forms}{"http":"/h","log":"up"}`]);
    expect(problems({ run: 'x', ready: { http: 'health' } })).toEqual(["ready.http: a path that starts with /, e.g. '/health' (letters, digits and -._~%/?=&)"]);
    expect(problems({ run: 'x', ready: { http: '/health#x' } })).toEqual(["ready.http: a path that starts with /, e.g. '/health' (letters, digits and -._~%/?=&)"]);
    expect(problems({ run: 'x', ready: { tcp: false } })).toEqual([`${forms}{"tcp":false}`]);
    expect(problems({ run: 'x', ready: { http: '/h' }, protocol: 'amqp' })).toEqual(["ready.http: an http readiness check needs protocol 'http'; the service speaks amqp: use { tcp: true } or { log: '...' }"]);
  });

  it('names port, env, cwd, name and protocol when they are wrong', () => {
    for (const port of [0, 70000]) expect(problems({ run: 'x', port }), String(port)).toEqual(['port: a fixed port is a whole number 1..65535']);
    for (const port of ['MY-PORT', '']) expect(problems({ run: 'x', port }), port).toEqual(['port: the name of the environment variable that tells it its port, such as PORT (letters, digits and _)']);
    for (const port of [true, 80.5]) expect(problems({ run: 'x', port }), String(port)).toEqual(['port: give the name of the environment variable that tells it its port (e.g. PORT), or a fixed port number 1..65535']);
    expect(problems({ run: 'x', env: { PORT: '80' } })).toEqual(["env.PORT: faultline sets PORT to the port it chose (port: 'PORT'); leave it out of env"]);
    expect(problems({ run: 'x', port: 'APP_PORT', env: { APP_PORT: '1' } })).toEqual(["env.APP_PORT: faultline sets APP_PORT to the port it chose (port: 'APP_PORT'); leave it out of env"]);
    expect(problems({ run: 'x', env: { 'BAD-NAME': '1' } })[0]).toBe("env.BAD-NAME: 'BAD-NAME' is not an environment variable name: use letters, digits and _");
    const missing = join(tmpdir(), 'faultline-no-such-dir-for-command-test');
    expect(problems({ run: 'x', cwd: missing })).toEqual([`cwd: folder '${missing}' does not exist; give an existing folder (a relative one is taken from ${process.cwd()})`]);
    expect(problems({ run: 'x', name: 'App' })).toEqual(['name: use lower-case letters, digits and -']);
    expect(problems({ run: 'x', protocol: 'grpc' })[0]).toMatch(/^protocol: /);
  });
});

describe('command target topology', () => {
  it('is one service app, started through /bin/sh -c, told its port in PORT, from faultline\'s own directory', () => {
    const t = commandTarget.topology({ run: 'node server.js' });
    const spec = t.services[0]!;
    expect(t.services).toHaveLength(1);
    expect([spec.name, spec.target, spec.ports, spec.protocols, spec.fixedPorts, spec.external]).toEqual(['app', 'command', ['http'], { http: 'http' }, undefined, undefined]);
    expect(t.entries).toEqual([{ protocol: 'http', endpoints: [{ service: 'app', port: 'http' }] }]);
    expect(linkNames(t)).toEqual(['client->app']);
    expect(spec.local(ctx)).toEqual({ command: '/bin/sh', args: ['-c', 'node server.js'], cwd: process.cwd(), env: { HOST: '127.0.0.1', PORT: '7001' } });
    expect(spec.container).toBeUndefined();
    expect(spec.stopSignal).toBeUndefined();
  });

  it('gives the port in the named variable, keeps the user\'s env, and takes cwd relative to faultline\'s', () => {
    const spec = commandTarget.topology({ run: 'npm start', port: 'APP_PORT', env: { NODE_ENV: 'production', HOST: '::1' }, cwd: '.', name: 'shop' }).services[0]!;
    expect(spec.name).toBe('shop');
    expect(spec.local(ctx)).toEqual({ command: '/bin/sh', args: ['-c', 'npm start'], cwd: process.cwd(), env: { HOST: '::1', NODE_ENV: 'production', APP_PORT: '7001' } });
    expect(commandTarget.topology({ run: 'x', cwd: tmpdir() }).services[0]!.local(ctx).cwd).toBe(tmpdir());
  });

  it('listens on a fixed port when given a number, and sets no port variable', () => {
    const spec = commandTarget.topology({ run: './server', port: 8080 }).services[0]!;
    expect(spec.fixedPorts).toEqual({ http: 8080 });
    expect(spec.local({ ...ctx, ports: { http: 8080 } }).env).toEqual({ HOST: '127.0.0.1' });
  });

  it('waits for a TCP connect by default, or the readiness given, 30 s unless told', () => {
    const ready = (r?: unknown) => commandTarget.topology({ run: 'x', ...(r ? { ready: r } : {}) } as never).services[0]!.ready;
    expect([ready().describe(), ready().timeoutMs]).toEqual(['TCP connect to port (main)', 30_000]);
    expect([ready({ http: '/health', timeout: '2m' }).describe(), ready({ http: '/health', timeout: '2m' }).timeoutMs]).toEqual(['HTTP 200 from GET /health to port (main)', 120_000]);
    // The text is matched as it is written, not as a pattern.
    expect(ready({ log: 'up (v1.2)' }).describe()).toBe('log line matching /up \\(v1\\.2\\)/');
  });

  it('speaks amqp when told, and records its command line as the program\'s version', async () => {
    const t = commandTarget.topology({ run: './broker --fast', protocol: 'amqp' });
    expect(t.entries).toEqual([{ protocol: 'amqp', endpoints: [{ service: 'app', port: 'amqp' }] }]);
    expect(t.services[0]!.program.name).toBe('command');
    expect(await t.services[0]!.program.version()).toBe('./broker --fast');
  });

  it('builds a plain design that a scenario accepts with kill, pause and restart faults', () => {
    const design = command({ run: 'node server.js', ready: { http: '/health' } });
    expect(design).toEqual({ target: 'command', options: { run: 'node server.js', ready: { http: '/health' } } });
    const r = validateScenario({
      name: 'cmd',
      description: 'a command',
      designs: { mine: design },
      workload: http({ model: 'open', rate: 10, path: '/' }),
      duration: '10s',
      faults: [
        { name: 'k', at: '1s', for: '1s', service: 'app', kill: 'SIGKILL' },
        { name: 'p', at: '3s', for: '1s', service: 'app', pause: true },
        { name: 'r', at: '5s', service: 'app', restart: true },
        { name: 'l', at: '6s', for: '1s', link: 'client->app', latency: { latency: 10 } },
      ],
    });
    expect(r.ok ? [] : r.problems).toEqual([]);
  });
});

describe('the user\'s command as a load balancer\'s backends', () => {
  const backend = command({ run: 'node server.js', ready: { http: '/health' } });

  it('runs the command as every backend, each told its own port, behind links lb->backend-i', () => {
    const t = haproxyTarget.topology({ backends: 2, backend });
    expect(t.services.map((s) => [s.name, s.target])).toEqual([['backend-1', 'command'], ['backend-2', 'command'], ['lb', 'haproxy']]);
    expect(t.services[1]!.local({ ...ctx, ports: { http: 7002 } })).toEqual({ command: '/bin/sh', args: ['-c', 'node server.js'], cwd: process.cwd(), env: { HOST: '127.0.0.1', PORT: '7002' } });
    expect(linkNames(t)).toEqual(['client->lb', 'lb->backend-1', 'lb->backend-2']);
    expect(nginxTarget.topology({ backends: 3, backend }).services.map((s) => s.target)).toEqual(['command', 'command', 'command', 'nginx']);
  });

  it('has HAProxy check the command\'s ready.http path, or connect over TCP when it has none', () => {
    const backends = [{ name: 'backend-1', host: '127.0.0.1', port: 9001, weight: 1 }];
    const listen = { host: '127.0.0.1', port: 8080 };
    expect(renderHaproxyConfig({ backend }, listen, backends)).toMatch(/^\s+option httpchk GET \/health$/m);
    const tcp = renderHaproxyConfig({ backend: command({ run: 'x', ready: { log: 'up' } }) }, listen, backends);
    expect(tcp).not.toMatch(/httpchk/);
    expect(tcp).toMatch(/server backend-1 127\.0\.0\.1:9001 weight 1 check inter 1000ms fall 2 rise 2/);
    expect(renderHaproxyConfig({}, listen, backends)).toMatch(/^\s+option httpchk GET \/health$/m);
  });

  it('refuses a fixed port, a name, a protocol other than http and a design that is not a command, naming each field', () => {
    const problemsOf = (o: unknown) => haproxyTarget.options.safeParse(o).error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`) ?? [];
    expect(problemsOf({ backend: command({ run: 'x', port: 8080, name: 'web', protocol: 'amqp' }) })).toEqual([
      'backend.options.port: every backend needs a port of its own: give the environment variable that tells it its port (e.g. PORT), not a number',
      'backend.options.name: backends are named backend-1 … backend-N; leave name out',
      'backend.options.protocol: a load balancer speaks http to its backends',
    ]);
    expect(problemsOf({ backend: { target: 'http-service', options: { run: 'x' } } })).toEqual(["backend.target: a backend is the user's service: backend: command({ run: '...' })"]);
    expect(problemsOf({ backend: command({} as never) })).toEqual(['backend.options.run: Invalid input: expected string, received undefined']);
    // The check is the balancer's: a command design of its own may still have a fixed port.
    expect(problems({ run: 'x', port: 8080 })).toEqual([]);
  });
});
