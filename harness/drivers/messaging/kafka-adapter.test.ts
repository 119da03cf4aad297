import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { FaultlineError } from '../../errors.ts';
import type { MetricSink } from '../../metrics/sink.ts';
import { classifyKafkaError, kafkaAdapter } from './kafka-adapter.ts';
import { messaging } from './messaging-workload.ts';

const parse = (options: object) => kafkaAdapter.client.safeParse(options);

describe("the kafka adapter's client option", () => {
  it("is kafkajs unless a design says confluent; librdkafka's idempotent producer keeps 5 requests in flight, kafkajs's 1", () => {
    expect(parse({}).data).toMatchObject({ client: 'kafkajs', maxInFlight: 5 });
    expect(parse({ idempotent: true }).data).toMatchObject({ client: 'kafkajs', maxInFlight: 1 });
    expect(parse({ client: 'confluent', idempotent: true }).data).toMatchObject({ client: 'confluent', maxInFlight: 5 });
  });

  it('refuses what librdkafka cannot do, naming the field, and a client it does not know', () => {
    const tooMany = parse({ client: 'confluent', idempotent: true, maxInFlight: 6 });
    expect(tooMany.success).toBe(false);
    expect(tooMany.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['maxInFlight', "librdkafka's idempotent producer (client: 'confluent') keeps at most 5 requests in flight: use 5 or fewer"]]);
    expect(parse({ client: 'confluent', maxInFlight: 6 }).success).toBe(true);
    expect(parse({ client: 'rdkafka' }).error?.issues[0]?.path).toEqual(['client']);
  });

  it("runs producers in a process of their own only when a design asks, and only with librdkafka's producer", () => {
    expect(parse({}).data).toMatchObject({ producerProcess: false });
    expect(parse({ client: 'confluent', producerProcess: true }).data).toMatchObject({ client: 'confluent', producerProcess: true });
    const kafkajs = parse({ producerProcess: true });
    expect(kafkajs.success).toBe(false);
    expect(kafkajs.error?.issues.map((i) => [i.path.join('.'), i.message])).toEqual([['producerProcess', "producerProcess runs librdkafka's producers in a process of their own: it needs client: 'confluent'"]]);
  });

  it("librdkafka's errors as error kinds: the broker's by name as kafkajs's are, its own timeouts and transport failures as the transport's", () => {
    // As the adapter hands them on: librdkafka's code, and the code's name as `type`.
    const rd = (type: string, code: number, message: string) => Object.assign(new Error(message), { code, origin: code < 0 ? 'local' : 'kafka', type });
    expect(classifyKafkaError(rd('ERR_NOT_ENOUGH_REPLICAS', 19, 'Broker: Not enough in-sync replicas'))).toBe('kafka_not_enough_replicas');
    expect(classifyKafkaError(rd('ERR__MSG_TIMED_OUT', -192, 'Local: Message timed out'))).toBe('timeout');
    expect(classifyKafkaError(rd('ERR_REQUEST_TIMED_OUT', 7, 'Broker: Request timed out'))).toBe('timeout');
    expect(classifyKafkaError(rd('ERR__TRANSPORT', -195, 'Local: Broker transport failure'))).toBe('reset');
    expect(classifyKafkaError(rd('ERR__QUEUE_FULL', -184, 'Local: Queue full'))).toBe('kafka_queue_full');
  });
});

describe("client 'confluent' without its package", () => {
  const saved = process.env.FAULTLINE_TOOLS;
  let empty: string | undefined;
  afterEach(() => {
    if (saved === undefined) delete process.env.FAULTLINE_TOOLS;
    else process.env.FAULTLINE_TOOLS = saved;
    if (empty) rmSync(empty, { recursive: true, force: true });
  });

  it('fails making the driver with a set-up error that says how to install it', () => {
    empty = mkdtempSync(join(tmpdir(), 'faultline-no-tools-'));
    process.env.FAULTLINE_TOOLS = empty;
    const ctx = { entry: { protocol: 'kafka', endpoints: [{ host: '127.0.0.1', port: 9 }] }, client: kafkaAdapter.client.parse({ client: 'confluent' }), sink: undefined as unknown as MetricSink, drainMs: 0 };
    let thrown: unknown;
    try {
      kafkaAdapter.create(messaging({ model: 'open', rate: 1 }), ctx);
    } catch (err) {
      thrown = err;
    }
    expect(thrown).toBeInstanceOf(FaultlineError);
    const e = thrown as FaultlineError;
    expect(e.code).toBe('setup');
    expect(e.message).toBe(`client: 'confluent' needs @confluentinc/kafka-javascript 1.10.1 (librdkafka) in faultline's tool cache, and it is not there (${join(empty, 'confluent-kafka-javascript-1.10.1')}): 'npm run setup' (or 'faultline setup' where faultline is an installed package) builds it`);
    expect(e.hint).toMatch(/g\+\+ make zlib1g-dev/);
  });
});
