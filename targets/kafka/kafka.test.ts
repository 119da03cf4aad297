import { describe, expect, it } from 'vitest';
import { findMavenTool, mavenTools } from '../../harness/tooling/setup/maven-tools.mjs';
import { kafka, kafkaClusterId, kafkaSpec, kafkaTarget, renderServerProperties } from './kafka.ts';

const ctx = (advertised: { host: string; port: number }) => ({
  dir: '/tmp/faultline-x-kafka-abc',
  host: '127.0.0.1',
  ports: { kafka: 39092, controller: 39093 },
  links: {},
  advertised: { kafka: advertised, controller: { host: '127.0.0.1', port: 39093 } },
});

/** The properties as key → value. */
function parse(text: string): Record<string, string> {
  return Object.fromEntries(text.split('\n').filter((l) => l.includes('=')).map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('kafka target', () => {
  it('accepts a name and a heap, and names every bad option', () => {
    expect(kafkaTarget.options.safeParse({ name: 'broker', heapMb: 1024 }).success).toBe(true);
    expect(kafkaTarget.options.safeParse({}).success).toBe(true);
    const bad = kafkaTarget.options.safeParse({ name: 'Broker_1', heapMb: 128, partitions: 3 });
    expect(bad.success).toBe(false);
    const named = bad.error!.issues.map((i) => (i.path.length > 0 ? i.path.join('.') : i.message)).join(' ');
    for (const field of ['name', 'heapMb', 'partitions']) expect(named).toContain(field);
    expect(kafkaTarget.options.safeParse({ heapMb: 8192 }).success).toBe(false);
    expect(kafkaTarget.options.safeParse({ heapMb: 512.5 }).success).toBe(false);
  });

  it('is one service whose first port is kafka, the entry of the design', () => {
    const t = kafkaTarget.topology({ name: 'events' });
    expect(t.services.map((s) => [s.name, s.target, s.ports])).toEqual([['events', 'kafka', ['kafka', 'controller']]]);
    expect(t.entries).toEqual([{ protocol: 'kafka', endpoints: [{ service: 'events', port: 'kafka' }] }]);
    expect(kafkaSpec().protocols).toEqual({ kafka: 'kafka' });
    // Local runtime only for now.
    expect(kafkaSpec().container).toBeUndefined();
    expect(kafka({ heapMb: 1024 })).toEqual({ target: 'kafka', options: { heapMb: 1024 } });
  });

  it('renders a single KRaft node that listens on loopback and advertises the address it is given', () => {
    const p = parse(renderServerProperties({ host: '127.0.0.1', kafka: 39092, controller: 39093 }, { host: '127.0.0.1', port: 41000 }, '/d/data'));
    expect(p).toMatchObject({
      'process.roles': 'broker,controller',
      'node.id': '1',
      'controller.quorum.voters': '1@127.0.0.1:39093',
      listeners: 'PLAINTEXT://127.0.0.1:39092,CONTROLLER://127.0.0.1:39093',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:41000',
      'controller.listener.names': 'CONTROLLER',
      'listener.security.protocol.map': 'PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT',
      'log.dirs': '/d/data',
      'offsets.topic.replication.factor': '1',
      'transaction.state.log.replication.factor': '1',
      'transaction.state.log.min.isr': '1',
      'group.initial.rebalance.delay.ms': '0',
      'num.partitions': '1',
      'auto.create.topics.enable': 'false',
    });
  });

  // The spec needs the broker's jars in the tool cache (npm run setup) to name its class path.
  it.skipIf(findMavenTool(mavenTools.find((t) => t.name === 'kafka')!) === undefined)("takes the advertised listener from the runtime (a proxy's address), its heap from the options", () => {
    const proc = kafkaSpec('kafka', { heapMb: 768 }).local(ctx({ host: '127.0.0.1', port: 47001 }));
    const p = parse(proc.files!['server.properties']!);
    expect(p['advertised.listeners']).toBe('PLAINTEXT://127.0.0.1:47001');
    expect(p.listeners).toBe('PLAINTEXT://127.0.0.1:39092,CONTROLLER://127.0.0.1:39093');
    expect(p['log.dirs']).toBe('/tmp/faultline-x-kafka-abc/data');
    expect(proc.command).toBe('sh');
    expect(proc.args[0]).toBe('/tmp/faultline-x-kafka-abc/kafka-start.sh');
    expect(proc.args.slice(2)).toEqual([kafkaClusterId('/tmp/faultline-x-kafka-abc'), '768']);
    expect(Object.keys(proc.files!).sort()).toEqual(['kafka-start.sh', 'log4j2.properties', 'server.properties']);
    expect(proc.files!['kafka-start.sh']).toContain('exec java');
  });

  it('gives each service dir its own cluster id, the same at every restart, in the 22-character form KRaft takes', () => {
    const a = kafkaClusterId('/tmp/a');
    expect(a).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(kafkaClusterId('/tmp/a')).toBe(a);
    expect(kafkaClusterId('/tmp/b')).not.toBe(a);
    for (let i = 0; i < 200; i++) expect(kafkaClusterId(`/tmp/dir-${i}`).startsWith('-')).toBe(false);
  });
});
