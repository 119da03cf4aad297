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
});
