import { describe, expect, it } from 'vitest';
import { httpDriver, requestCycle } from './http-driver.ts';
import { http } from './http-workload.ts';
import { MetricSink } from '../metrics/sink.ts';
import { classifyError } from './transport-errors.ts';

describe('requestCycle', () => {
  it('interleaves requests by weight, the same every time', () => {
    const a = { name: 'a', method: 'GET' as const, path: '/a', weight: 3 };
    const b = { name: 'b', method: 'GET' as const, path: '/b', weight: 1 };
    const names = requestCycle([a, b]).map((r) => r.name);
    expect(names).toEqual(['a', 'a', 'b', 'a']);
    expect(requestCycle([a, b]).map((r) => r.name)).toEqual(names);
  });
});

describe('classifyError', () => {
  const err = (code: string, cause?: unknown) => Object.assign(new Error(code), { code, cause });
  it.each([
    [err('UND_ERR_HEADERS_TIMEOUT'), 'timeout'],
    [err('ECONNREFUSED'), 'refused'],
    [err('UND_ERR_SOCKET', err('ECONNRESET')), 'reset'],
    [err('SOMETHING', err('ECONNREFUSED')), 'refused'],
    [new Error('request timed out'), 'timeout'],
    [new Error('odd'), 'other'],
  ])('%s → %s', (e, kind) => {
    expect(classifyError(e)).toBe(kind);
  });
});

describe('the http adapter', () => {
  it('refuses pipelining on the raw engine instead of ignoring it', () => {
    const sink = new MetricSink({ windowStartMs: 0, lateThresholdMs: 10 });
    const create = () => httpDriver.adapters.http!.create(http({ model: 'closed', connections: 2, path: '/', engine: 'raw' }), { entry: { protocol: 'http', endpoints: [{ host: '127.0.0.1', port: 9 }] }, client: { pipelining: 4 }, sink, drainMs: 0 });
    expect(create).toThrow(/engine 'raw' sends one request at a time on each connection; this design asks for pipelining 4/);
    sink.destroy();
  });
});
