import { describe, expect, it } from 'vitest';
import { linkNames } from '../../harness/runtime/service-spec.ts';
import { CONTAINER_DATA_DIR, parseRedisVersion, redis, redisArgs, redisSpec, redisTarget } from './redis.ts';

const ctx = { dir: '/tmp/faultline-r-redis-x', host: '127.0.0.1', ports: { redis: 7001 }, links: {}, advertised: {} };

/** Each problem's field (or its message when it has no field), as validate-scenario reports them. */
function named(input: unknown): string[] {
  const r = redisTarget.options.safeParse(input);
  return r.success ? [] : r.error.issues.map((i) => (i.path.length > 0 ? i.path.join('.') : i.message));
}

describe('redis target', () => {
  it('accepts 1 to 7 masters and the three persistence modes', () => {
    for (const masters of [1, 5, 7]) expect(redisTarget.options.safeParse({ masters }).success).toBe(true);
    for (const persistence of ['none', 'aof-everysec', 'aof-always']) expect(redisTarget.options.safeParse({ persistence, name: 'locks' }).success).toBe(true);
    expect(redisTarget.options.safeParse({}).success).toBe(true);
  });

  it('names the field of every bad option, all at once', () => {
    for (const masters of [0, 8, 2.5, '3']) expect(named({ masters })).toEqual(['masters']);
    expect(named({ persistence: 'rdb' })).toEqual(['persistence']);
    expect(named({ masters: 9, persistence: 'always', name: 'Redis' }).sort()).toEqual(['masters', 'name', 'persistence']);
    expect(named({ replicas: 2 }).join(' ')).toContain('replicas');
    const bad = redisTarget.options.safeParse({ masters: 8, persistence: 'aof' });
    const messages = bad.error!.issues.map((i) => i.message).join(' | ');
    expect(messages).toContain('at most 7 masters');
    expect(messages).toContain('aof-always');
  });

  it('is one master named redis, the only entry endpoint, speaking redis on its port', () => {
    const t = redisTarget.topology({});
    expect(t.services.map((s) => [s.name, s.target, s.ports])).toEqual([['redis', 'redis', ['redis']]]);
    expect(t.entries).toEqual([{ protocol: 'redis', endpoints: [{ service: 'redis', port: 'redis' }] }]);
    expect(t.links ?? []).toEqual([]);
    expect(t.services[0]!.protocols).toEqual({ redis: 'redis' });
    expect(linkNames(t)).toEqual(['client->redis']);
    expect(redisTarget.topology({ name: 'locks' }).services.map((s) => s.name)).toEqual(['locks']);
  });

  it('makes 5 masters 5 services and 5 entry endpoints, each behind a client link of its own', () => {
    const t = redisTarget.topology({ masters: 5 });
    const names = ['redis-1', 'redis-2', 'redis-3', 'redis-4', 'redis-5'];
    expect(t.services.map((s) => s.name)).toEqual(names);
    expect(t.entries).toEqual([{ protocol: 'redis', endpoints: names.map((service) => ({ service, port: 'redis' })) }]);
    // Independent masters: no links between them, so nothing but the client reaches a master.
    expect(t.links ?? []).toEqual([]);
    expect(linkNames(t)).toEqual(names.map((n) => `client->${n}`));
    expect(redisTarget.topology({ masters: 3, name: 'lock' }).services.map((s) => s.name)).toEqual(['lock-1', 'lock-2', 'lock-3']);
  });

  it('runs redis-server on loopback in the service dir, memory only by default', () => {
    const p = redisSpec('redis').local(ctx);
    expect(p.command).toBe('redis-server');
    expect(p.files).toBeUndefined();
    expect(p.args).toEqual([
      '--port', '7001', '--bind', '127.0.0.1', '--dir', ctx.dir, '--daemonize', 'no', '--save', '', '--appendonly', 'no',
      '--logfile', '', '--set-proc-title', 'no',
    ]);
  });

  it('turns the append-only file on, fsynced every second or at every write, for each persistence mode', () => {
    const at = (persistence: 'none' | 'aof-everysec' | 'aof-always') => redisSpec('r', { persistence }).local(ctx).args;
    const setting = (args: string[], flag: string) => (args.includes(flag) ? args[args.indexOf(flag) + 1] : undefined);
    expect([setting(at('none'), '--appendonly'), setting(at('none'), '--appendfsync')]).toEqual(['no', undefined]);
    expect([setting(at('aof-everysec'), '--appendonly'), setting(at('aof-everysec'), '--appendfsync')]).toEqual(['yes', 'everysec']);
    expect([setting(at('aof-always'), '--appendonly'), setting(at('aof-always'), '--appendfsync')]).toEqual(['yes', 'always']);
    // Never an RDB snapshot, whatever the mode.
    for (const mode of ['none', 'aof-everysec', 'aof-always'] as const) expect(setting(at(mode), '--save')).toBe('');
    expect(redisArgs('aof-always', { host: '127.0.0.1', port: 6380 }, '/d')).toEqual([
      '--port', '6380', '--bind', '127.0.0.1', '--dir', '/d', '--daemonize', 'no', '--save', '', '--appendonly', 'yes', '--appendfsync', 'always',
      '--logfile', '', '--set-proc-title', 'no',
    ]);
  });

  it('runs the same server in a container: all addresses, its data in /data, open to other addresses', () => {
    const c = redisSpec('redis-2', { persistence: 'aof-everysec' }).container!({ ...ctx, dir: '/faultline', host: '0.0.0.0', ports: { redis: 8000 } });
    expect(c.image).toBe('redis');
    expect(c.command).toBe('redis-server');
    expect(c.args).toEqual([
      '--port', '8000', '--bind', '0.0.0.0', '--dir', CONTAINER_DATA_DIR, '--daemonize', 'no', '--save', '', '--appendonly', 'yes', '--appendfsync', 'everysec',
      '--logfile', '', '--set-proc-title', 'no', '--protected-mode', 'no',
    ]);
  });

  it('reads the version redis-server --version prints, in both runtimes', () => {
    const program = redisSpec().program;
    expect(program.name).toBe('redis-server');
    expect(program.versionArgs).toEqual(['--version']);
    expect(program.parseVersion!('Redis server v=7.0.15 sha=00000000:0 malloc=jemalloc-5.3.0 bits=64 build=ae4d7c971a948f0\n')).toBe('7.0.15');
    expect(parseRedisVersion('redis-server: command not found')).toBeUndefined();
  });

  it('has a design helper that names the target', () => {
    expect(redis({ masters: 5, persistence: 'aof-always' })).toEqual({ target: 'redis', options: { masters: 5, persistence: 'aof-always' } });
    expect(redis()).toEqual({ target: 'redis', options: {} });
  });
});
