import { describe, expect, it } from 'vitest';
import { findMavenTool, mavenTools } from '../../harness/tooling/setup/maven-tools.mjs';
import { CONTROLLER_ID, kafka, kafkaClusterId, kafkaSpec, kafkaTarget, renderBrokerProperties, renderControllerProperties, renderServerProperties } from './kafka.ts';

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
    expect(kafkaTarget.options.safeParse({ brokers: 3 }).success).toBe(true);
    expect(kafkaTarget.options.safeParse({ brokers: 2 }).success).toBe(false);
  });

  it('is one service whose first port is kafka, the entry of the design', () => {
    const t = kafkaTarget.topology({ name: 'events' });
    expect(t.services.map((s) => [s.name, s.target, s.ports])).toEqual([['events', 'kafka', ['kafka', 'controller']]]);
    expect(t.entries).toEqual([{ protocol: 'kafka', endpoints: [{ service: 'events', port: 'kafka' }] }]);
    expect(kafkaSpec().protocols).toEqual({ kafka: 'kafka' });
    // One node runs in either runtime; a cluster's nodes in the local one only.
    expect(kafkaSpec().container).toBeDefined();
    expect(kafkaTarget.topology({ brokers: 3 }).services.map((s) => s.container)).toEqual([undefined, undefined, undefined, undefined]);
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

  it('is, as a cluster, a controller first and N brokers that each reach it through a link of their own, every broker an entry endpoint', () => {
    const t = kafkaTarget.topology({ name: 'log', brokers: 3 });
    expect(t.services.map((s) => [s.name, s.ports])).toEqual([
      ['log-controller', ['controller']],
      ['log-1', ['kafka', 'internal']],
      ['log-2', ['kafka', 'internal']],
      ['log-3', ['kafka', 'internal']],
    ]);
    expect(t.links).toEqual([1, 2, 3].map((i) => ({ name: `log-${i}->controller`, from: `log-${i}`, to: 'log-controller', port: 'controller' })));
    expect(t.entries).toEqual([{ protocol: 'kafka', endpoints: [1, 2, 3].map((i) => ({ service: `log-${i}`, port: 'kafka' })) }]);
    expect(kafkaTarget.topology({ brokers: 5 }).services).toHaveLength(6);
  });

  it('renders a cluster: the controller a quorum of one, each broker advertising its client link to clients and its own address to the other brokers', () => {
    const c = parse(renderControllerProperties({ host: '127.0.0.1', controller: 39093 }, '/c/data'));
    expect(c).toMatchObject({
      'process.roles': 'controller',
      'node.id': String(CONTROLLER_ID),
      'controller.quorum.voters': `${CONTROLLER_ID}@127.0.0.1:39093`,
      listeners: 'CONTROLLER://127.0.0.1:39093',
      // The controller creates topics: its default is the one a client's topic gets.
      'default.replication.factor': '3',
      'offsets.topic.replication.factor': '3',
    });
    const b = parse(renderBrokerProperties(2, { host: '127.0.0.1', kafka: 39192, internal: 39193 }, { host: '127.0.0.1', port: 41002 }, { host: '127.0.0.1', port: 41100 }, '/b/data'));
    expect(b).toMatchObject({
      'process.roles': 'broker',
      'node.id': '2',
      // Through the broker's link to the controller (a proxy when a fault may touch it).
      'controller.quorum.voters': `${CONTROLLER_ID}@127.0.0.1:41100`,
      listeners: 'PLAINTEXT://127.0.0.1:39192,INTERNAL://127.0.0.1:39193',
      'advertised.listeners': 'PLAINTEXT://127.0.0.1:41002,INTERNAL://127.0.0.1:39193',
      'inter.broker.listener.name': 'INTERNAL',
      'default.replication.factor': '3',
      'min.insync.replicas': '2',
      'offsets.topic.replication.factor': '3',
      'transaction.state.log.min.isr': '2',
      'auto.create.topics.enable': 'false',
    });
  });

  it.skipIf(findMavenTool(mavenTools.find((t) => t.name === 'kafka')!) === undefined)('gives every node of one cluster the same cluster id, and another cluster another', () => {
    const idOf = (t: ReturnType<typeof kafkaTarget.topology>, i: number) => t.services[i]!.local({ ...ctx({ host: '127.0.0.1', port: 1 }), dir: `/tmp/node-${i}`, ports: { kafka: 1, internal: 2, controller: 3 }, links: { [`kafka-${i}->controller`]: { host: '127.0.0.1', port: 3 } } }).args[2];
    const one = kafkaTarget.topology({ brokers: 3 });
    const ids = [0, 1, 2, 3].map((i) => idOf(one, i));
    expect(new Set(ids).size).toBe(1);
    expect(ids[0]).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(idOf(kafkaTarget.topology({ brokers: 3 }), 0)).not.toBe(ids[0]);
  });

  it('in a container, advertises its own address on the network for the network alias the host cannot resolve, and a proxy as given', () => {
    const inContainer = (advertised: { host: string; port: number }) => {
      const proc = kafkaSpec('broker').container!({ dir: '/faultline', host: '0.0.0.0', ports: { kafka: 9092, controller: 9093 }, links: {}, advertised: { kafka: advertised, controller: { host: 'broker', port: 9093 } } });
      return { proc, p: parse(proc.files!['server.properties']!) };
    };
    const direct = inContainer({ host: 'broker', port: 9092 });
    expect(direct.proc.image).toBe('kafka');
    expect(direct.proc.env).toEqual({ FAULTLINE_NETWORK_ALIAS: 'broker' });
    // Filled in by the container's script with the address the alias resolves to, at every start.
    expect(direct.p['advertised.listeners']).toBe('PLAINTEXT://faultline-own-address:9092');
    expect(direct.p.listeners).toBe('PLAINTEXT://faultline-own-address:9092,CONTROLLER://faultline-own-address:9093');
    expect(direct.proc.files!['kafka-container.sh']).toContain('getent hosts');
    const proxied = inContainer({ host: '172.30.0.5', port: 8666 });
    expect(proxied.p['advertised.listeners']).toBe('PLAINTEXT://172.30.0.5:8666');
  });

  it('gives each service dir its own cluster id, the same at every restart, in the 22-character form KRaft takes', () => {
    const a = kafkaClusterId('/tmp/a');
    expect(a).toMatch(/^[A-Za-z0-9_][A-Za-z0-9_-]{21}$/);
    expect(kafkaClusterId('/tmp/a')).toBe(a);
    expect(kafkaClusterId('/tmp/b')).not.toBe(a);
    for (let i = 0; i < 200; i++) expect(kafkaClusterId(`/tmp/dir-${i}`).startsWith('-')).toBe(false);
  });
});
