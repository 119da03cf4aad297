import { describe, expect, it } from 'vitest';
import { renderRabbitmqConfig, rabbitmqSpec, rabbitmqTarget } from './rabbitmq.ts';

describe('rabbitmq target', () => {
  it('accepts broker options and names every bad one', () => {
    expect(rabbitmqTarget.options.safeParse({ name: 'broker', memoryHighWatermark: 0.3, diskFreeLimit: '500MB' }).success).toBe(true);
    expect(rabbitmqTarget.options.safeParse({ diskFreeLimit: 1_000_000 }).success).toBe(true);
    const bad = rabbitmqTarget.options.safeParse({ memoryHighWatermark: 2, diskFreeLimit: '5 TB', prefetch: 10 });
    expect(bad.success).toBe(false);
    const named = bad.error!.issues.map((i) => (i.path.length > 0 ? i.path.join('.') : i.message)).join(' ');
    for (const field of ['memoryHighWatermark', 'diskFreeLimit', 'prefetch']) expect(named).toContain(field);
  });

  it('renders only the settings it was given', () => {
    expect(renderRabbitmqConfig({}, { host: '127.0.0.1', port: 5672 })).toBe('listeners.tcp.default = 127.0.0.1:5672\n');
    expect(renderRabbitmqConfig({ memoryHighWatermark: 0.25, diskFreeLimit: '1GiB' }, { host: '0.0.0.0', port: 8080 }, true)).toBe(
      'listeners.tcp.default = 0.0.0.0:8080\nvm_memory_high_watermark.relative = 0.25\ndisk_free_limit.absolute = 1GiB\nloopback_users = none\n',
    );
  });

  it('is one service whose first port is amqp, the entry of the design', () => {
    const t = rabbitmqTarget.topology({ name: 'mq' });
    expect(t.services.map((s) => [s.name, s.ports])).toEqual([['mq', ['amqp', 'epmd', 'dist']]]);
    expect(t.entries).toEqual([{ protocol: 'amqp', endpoints: [{ service: 'mq', port: 'amqp' }] }]);
    expect(rabbitmqSpec().protocols).toEqual({ amqp: 'amqp' });
  });

  it('builds a cluster as N nodes on one epmd of their own, every node an entry endpoint, each told its peers', () => {
    const t = rabbitmqTarget.topology({ nodes: 3 });
    expect(t.services.map((x) => [x.name, x.ports])).toEqual([
      ['rabbitmq-epmd', ['epmd']],
      ['rabbitmq-1', ['amqp', 'dist']],
      ['rabbitmq-2', ['amqp', 'dist']],
      ['rabbitmq-3', ['amqp', 'dist']],
    ]);
    expect(t.links?.map((l) => [l.name, l.to])).toEqual([['rabbitmq-1->epmd', 'rabbitmq-epmd'], ['rabbitmq-2->epmd', 'rabbitmq-epmd'], ['rabbitmq-3->epmd', 'rabbitmq-epmd']]);
    expect(t.entries).toEqual([{ protocol: 'amqp', endpoints: [1, 2, 3].map((i) => ({ service: `rabbitmq-${i}`, port: 'amqp' })) }]);
    // Local runtime only: the nodes share this machine's epmd.
    expect(t.services.some((x) => x.container !== undefined)).toBe(false);
    const ctx = { dir: '/tmp/x', host: '127.0.0.1', ports: { amqp: 5672, dist: 25672 }, links: { 'rabbitmq-2->epmd': { host: '127.0.0.1', port: 4400 } }, advertised: {} };
    const node2 = t.services[2]!.local(ctx);
    expect(node2.env?.ERL_EPMD_PORT).toBe('4400');
    expect(node2.env?.FAULTLINE_SHARED_EPMD).toBe('1');
    const conf = node2.files!['rabbitmq.conf']!;
    expect(conf).toContain('cluster_formation.peer_discovery_backend = classic_config');
    const peers = [...conf.matchAll(/cluster_formation\.classic_config\.nodes\.\d = (\S+)/g)].map((m) => m[1]);
    expect(peers).toHaveLength(3);
    expect(peers[1]).toBe(node2.env?.RABBITMQ_NODENAME);
    // A restarted node comes back under the same name, with the same cookie.
    expect(t.services[2]!.local(ctx).env?.RABBITMQ_NODENAME).toBe(node2.env?.RABBITMQ_NODENAME);
    expect(t.services[2]!.local(ctx).env?.FAULTLINE_ERLANG_COOKIE).toBe(t.services[1]!.local({ ...ctx, links: { 'rabbitmq-1->epmd': { host: '127.0.0.1', port: 4400 } } }).env?.FAULTLINE_ERLANG_COOKIE);
  });
});
