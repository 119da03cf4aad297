import { describe, expect, it } from 'vitest';
import { classifyAmqpError } from './amqp-adapter.ts';
import { classifyKafkaError } from './kafka-adapter.ts';

const withCode = (message: string, code: string) => Object.assign(new Error(message), { code });
const named = (name: string, fields: Record<string, unknown> = {}) => Object.assign(new Error(name), { name, ...fields });

describe('publish failures as error kinds', () => {
  it('AMQP: a nack, a closed channel, and the transport kinds', () => {
    expect(classifyAmqpError(new Error('message nacked'))).toBe('nack');
    expect(classifyAmqpError(new Error('channel closed'))).toBe('reset');
    expect(classifyAmqpError(withCode('connect ECONNREFUSED 127.0.0.1:5672', 'ECONNREFUSED'))).toBe('refused');
    expect(classifyAmqpError(withCode('read ECONNRESET', 'ECONNRESET'))).toBe('reset');
    expect(classifyAmqpError(new Error('something else'))).toBe('other');
  });

  it("Kafka: the broker's errors by name, timeouts, and connection errors through kafkajs's wrappers", () => {
    expect(classifyKafkaError(named('KafkaJSProtocolError', { type: 'NOT_LEADER_OR_FOLLOWER' }))).toBe('kafka_not_leader_or_follower');
    expect(classifyKafkaError(named('KafkaJSRequestTimeoutError'))).toBe('timeout');
    const refused = named('KafkaJSConnectionError', { message: 'Connection error: connect ECONNREFUSED 127.0.0.1:9092' });
    expect(classifyKafkaError(named('KafkaJSNumberOfRetriesExceeded', { originalError: refused }))).toBe('refused');
    expect(classifyKafkaError(named('KafkaJSConnectionClosedError'))).toBe('reset');
    expect(classifyKafkaError(new Error('something else'))).toBe('other');
  });
});
