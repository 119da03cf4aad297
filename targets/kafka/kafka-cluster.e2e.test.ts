import { readFile } from 'node:fs/promises';
import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../harness/base/endpoint.ts';
import { topicLed } from '../../harness/drivers/messaging/kafka-adapter.ts';
import { messagingDriver } from '../../harness/drivers/messaging/messaging-driver.ts';
import { applyFault } from '../../harness/faults/apply-fault.ts';
import { toxiproxyServerSpec, ToxiproxyControl } from '../../harness/faults/toxiproxy.ts';
import { decodeMessage, messaging } from '../../harness/drivers/messaging/messaging-workload.ts';
import { startTopology, type UpTopology } from '../../harness/run/start-topology.ts';
import { LocalRuntime } from '../../harness/runtime/local-runtime.ts';
import { clientLinkName } from '../../harness/runtime/service-spec.ts';
import { drive } from '../../harness/testing/drive.ts';
import { topicHolds, withKafkaAdmin } from '../../harness/testing/kafka-truth.ts';
import { processesOfRun } from '../../harness/testing/processes.ts';
import { kafkaTarget } from './kafka.ts';

const BROKERS = [1, 2, 3];

function cmdline(pid: number): string {
  try {
    return readFileSync(`/proc/${pid}/cmdline`, 'latin1').replaceAll('\0', ' ');
  } catch {
    return '';
  }
}

function client(eps: readonly Endpoint[]): Kafka {
  return new Kafka({ clientId: 'cluster-e2e', brokers: eps.map((e) => `${e.host}:${e.port}`), logLevel: logLevel.NOTHING, connectionTimeout: 2_000, requestTimeout: 5_000, retry: { retries: 1 } });
}

/** Partition 0's leader and in-sync replicas, as the brokers at `eps` tell it. */
async function partitionZero(eps: readonly Endpoint[], topic: string): Promise<{ leader: number; replicas: number[]; isr: number[] }> {
  return withKafkaAdmin(eps, async (a) => {
    const p = (await a.fetchTopicMetadata({ topics: [topic] })).topics[0]!.partitions.find((x) => x.partitionId === 0)!;
    return { leader: p.leader, replicas: [...p.replicas].sort(), isr: [...p.isr].sort() };
  });
}

/** Every message the topic's log holds, read by a consumer group of its own: `p:s` of each. */
async function logHolds(eps: readonly Endpoint[], topic: string): Promise<string[]> {
  const held = await topicHolds(eps, topic);
  const consumer = client(eps).consumer({ groupId: `audit-${topic}`, sessionTimeout: 6_000, maxWaitTimeInMs: 100 });
  const seen: string[] = [];
  try {
    await consumer.connect();
    await consumer.subscribe({ topics: [topic], fromBeginning: true });
    await consumer.run({
      eachMessage: async ({ message }) => {
        const h = message.value ? decodeMessage(message.value) : undefined;
        seen.push(h ? `p${h.producer}:${h.seq}` : 'undecodable');
      },
    });
    for (let i = 0; i < 600 && seen.length < held; i++) await sleep(50);
  } finally {
    await consumer.disconnect();
  }
  expect(seen).toHaveLength(held);
  return seen;
}

interface HistoryLine {
  /** ms since the window began. */
  t: number;
  ev?: string;
  p?: string;
  s?: number;
}

async function historyOf(file: string): Promise<HistoryLine[]> {
  return (await readFile(file, 'utf8')).split('\n').filter((l) => l).map((l) => JSON.parse(l) as HistoryLine);
}

/** The messages the driver's producers were told were written (`ack` in its history), `p:s` of each. */
const acknowledged = (h: readonly HistoryLine[]) => new Set(h.filter((r) => r.ev === 'ack').map((r) => `${r.p}:${r.s}`));

async function until(what: string, check: () => Promise<boolean>, withinMs: number): Promise<void> {
  const deadline = Date.now() + withinMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await sleep(250);
  }
  throw new Error(`${what}: not within ${withinMs} ms`);
}

describe('a Kafka cluster of 3 brokers and a controller in the local runtime', () => {
  const runId = `kcl${process.pid}`;
  let runtime: LocalRuntime;
  let up: UpTopology;
  const endpoint = (id: number) => up.started.get(`kafka-${id}`)!.endpoint('kafka');

  beforeAll(async () => {
    runtime = new LocalRuntime({ runId });
    // Every client link through Toxiproxy, as in a run with a fault planned on it.
    const control = new ToxiproxyControl(await runtime.start(toxiproxyServerSpec()));
    const topology = kafkaTarget.topology({ brokers: 3, heapMb: 256 });
    const t0 = performance.now();
    up = await startTopology(topology, topology.entries[0]!, 'cluster', new Set(BROKERS.map((b) => clientLinkName(`kafka-${b}`))), runtime, control, AbortSignal.timeout(300_000));
    process.stdout.write(`kafka cluster: start to ready ${Math.round(performance.now() - t0)} ms\n`);
  }, 330_000);
  afterAll(async () => {
    await runtime.stopAll();
    expect(processesOfRun(runId)).toEqual([]);
  }, 60_000);

  it('runs a controller and three brokers, each registered, and replicates a new topic 3 times, all in sync', async () => {
    expect(processesOfRun(runId).map(cmdline).filter((c) => c.includes('kafka.Kafka'))).toHaveLength(4);
    expect(up.entry.endpoints).toEqual(BROKERS.map((b) => up.links.get(clientLinkName(`kafka-${b}`))!.listen));
    const cluster = await withKafkaAdmin(up.entry.endpoints, (a) => a.describeCluster());
    expect(cluster.brokers.map((b) => b.nodeId).sort()).toEqual(BROKERS);
    // Each broker hands its clients its client link's proxy, not its own port.
    for (const b of cluster.brokers) expect({ host: b.host, port: b.port }).toEqual(up.links.get(clientLinkName(`kafka-${b.nodeId}`))!.listen);
    // The broker's default (3) when the load names no replication factor.
    await withKafkaAdmin(up.entry.endpoints, async (a) => {
      await a.createTopics({ topics: [{ topic: 'replicated', numPartitions: 1 }] });
      await topicLed(a, 'replicated', 1);
    });
    await until('all replicas in sync', async () => (await partitionZero(up.entry.endpoints, 'replicated')).isr.length === 3, 30_000);
    expect((await partitionZero(up.entry.endpoints, 'replicated')).replicas).toEqual(BROKERS);
  }, 60_000);

  /**
   * The partition's leader goes on taking writes while both followers are frozen (shorter than
   * the time that would drop them from the in-sync set), then is killed; the followers thaw, and
   * once the controller has missed the dead broker's heartbeats it makes one of them leader, with
   * a log that never got the frozen stretch's messages. The old leader comes back as a follower
   * and truncates to the new leader's log.
   */
  async function leaderFailover(topic: string): Promise<{ leader: number; successor: number }> {
    await sleep(2_000);
    const { leader } = await partitionZero(up.entry.endpoints, topic);
    const followers = BROKERS.filter((b) => b !== leader);
    await Promise.all(followers.map((b) => up.started.get(`kafka-${b}`)!.pause()));
    await sleep(1_500);
    await up.started.get(`kafka-${leader}`)!.kill('SIGKILL');
    await Promise.all(followers.map((b) => up.started.get(`kafka-${b}`)!.resume()));
    let successor = -1;
    await until('a new leader among the followers', async () => {
      successor = (await partitionZero(followers.map(endpoint), topic)).leader;
      return followers.includes(successor);
    }, 60_000);
    await up.started.get(`kafka-${leader}`)!.restart();
    return { leader, successor };
  }

  /** 200 messages/s from one producer to a topic of one partition, 3 replicas, with `meanwhile` alongside. */
  async function run(topic: string, client: Record<string, unknown>, meanwhile: () => Promise<void>) {
    let history: HistoryLine[] = [];
    const r = await drive(messagingDriver, 'kafka', up.entry.endpoints, messaging({ model: 'open', rate: 200, producers: 1, consumers: 1, messageSize: 128, drainTimeout: '30s' }), { name: topic, partitions: 1, replicationFactor: 3, ...client }, {
      windowMs: 10_000,
      meanwhile,
      history: async (file) => {
        history = await historyOf(file);
      },
    });
    return { r, history };
  }

  async function failoverRun(topic: string, client: Record<string, unknown>) {
    let moved: { leader: number; successor: number } | undefined;
    const { r, history } = await run(topic, client, async () => {
      moved = await leaderFailover(topic);
    });
    const acked = acknowledged(history);
    const inLog = new Set(await logHolds(up.entry.endpoints, topic));
    const ackedNotInLog = [...acked].filter((m) => !inLog.has(m)).length;
    process.stdout.write(`${topic}: leader ${moved?.leader} → ${moved?.successor}; acknowledged ${acked.size}, in the log ${inLog.size}, acknowledged and not in the log ${ackedNotInLog}; checker lost ${r.checks.lost?.value}, lost_unconfirmed ${r.checks.lost_unconfirmed?.value}, duplicated ${r.checks.duplicated?.value}\n`);
    expect(moved?.successor).not.toBe(moved?.leader);
    expect(r.drain?.complete).toBe(true);
    return { r, ackedNotInLog, acked };
  }

  it('with acks=1 loses exactly the acknowledged messages the new leader never had', async () => {
    const { r, ackedNotInLog } = await failoverRun('acks-one', { acks: 1 });
    expect(ackedNotInLog).toBeGreaterThan(0);
    expect(r.checks.lost?.value).toBe(ackedNotInLog);
  }, 180_000);

  it('with acks=all and idempotence loses no acknowledged message under the same failover', async () => {
    const { r, ackedNotInLog, acked } = await failoverRun('acks-all', { acks: 'all', idempotent: true });
    expect(acked.size).toBeGreaterThan(0);
    expect(ackedNotInLog).toBe(0);
    expect(r.checks.lost?.value).toBe(0);
  }, 180_000);

  it('with the client link to the leader down, takes no message until it is up again, and loses none at acks=all', async () => {
    const topic = 'link-down';
    let cut = { from: 0, to: 0 };
    const { r, history } = await run(topic, { acks: 'all' }, async () => {
      const t0 = performance.now();
      await sleep(2_000);
      const { leader } = await partitionZero(up.entry.endpoints, topic);
      const from = performance.now() - t0;
      const heal = await applyFault({ name: 'cut', at: '0s', link: clientLinkName(`kafka-${leader}`), down: true }, { links: up.links, services: up.started });
      await sleep(4_000);
      const to = performance.now() - t0;
      await heal!();
      cut = { from, to };
    });
    const acks = history.filter((h) => h.ev === 'ack');
    // Allow for what was in flight at the cut; after that, no broker could answer through a link
    // that was down, which shows the clients really go through it.
    const duringCut = acks.filter((h) => h.t > cut.from + 500 && h.t < cut.to).length;
    const afterCut = acks.filter((h) => h.t > cut.to).length;
    process.stdout.write(`${topic}: down ${Math.round(cut.from)}–${Math.round(cut.to)} ms; acks during ${duringCut}, after ${afterCut}; lost ${r.checks.lost?.value}, lost_unconfirmed ${r.checks.lost_unconfirmed?.value}\n`);
    expect(duringCut).toBe(0);
    expect(afterCut).toBeGreaterThan(0);
    expect(r.checks.lost?.value).toBe(0);
    expect(r.drain?.complete).toBe(true);
  }, 180_000);
});
