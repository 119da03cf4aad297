import { describe, expect, it } from 'vitest';
import { evaluateSla } from './evaluate-sla.ts';
import { buildRegistry, type SlaWindow } from './metric-registry.ts';
import { everythingWorkload, stats } from './sla-fixtures.ts';
import { parseSla } from './sla-grammar.ts';

const registry = buildRegistry(everythingWorkload);

function run(ops: SlaWindow['ops'], more: Partial<SlaWindow> = {}): SlaWindow {
  return { span: { kind: 'run' }, ops, dropped: 2, late: 0, distributions: {}, counters: {}, tallies: {}, gauges: {}, checks: {}, ...more };
}

describe('evaluateSla', () => {
  // 990 fast answers (2 ms), 10 slow ones (400 ms, 5 of them 503s), 5 timeouts with no latency: 1005 operations over 2 s.
  const w = run(stats({ ok: [[990, 2000], [5, 400_000]], failed: { http_503: [5, 400_000], timeout: [5] } }, 2), {
    counters: { redeliveries: 3 },
    gauges: { lag: 1200 },
    tallies: { served_by: { b1: 600, b2: 400 } },
    checks: { lost: { checker: 'delivery', value: 0, unit: 'count', examples: [] }, duplicated: { checker: 'delivery', value: 2, unit: 'count', examples: [] } },
  });
  it.each([
    ['p50 < 5ms', true, '2ms'],
    ['p99 < 100ms', true, '2ms'],
    ['p99.5 < 100ms', false, '400ms'],
    ['p99.9 <= 1s', true, '400ms'],
    ['max >= 399ms', true, '400ms'],
    ['errors < 0.5%', false, '0.995%'],
    ['errors < 1%', true, '0.995%'],
    ['rate(timeout) < 0.5%', true, '0.498%'],
    ['count(timeout) == 5', true, '5'],
    ['count(timeout) < 0.5%', true, '0.498%'],
    ['count(http_5xx) == 5', true, '5'],
    ['count(http_503) == 5', true, '5'],
    ['count(http_502) == 0', true, '0'],
    ['count(http_4xx) == 0', true, '0'],
    ['throughput >= 497/s', true, '497.5/s'],
    ['requests == 1005', true, '1005'],
    ['ops == 1005', true, '1005'],
    ['dropped == 0', false, '2'],
    ['redeliveries <= 3', true, '3'],
    ['lag < 1000', false, '1200'],
    ['share(b1) >= 60%', true, '60%'],
    ['share(b3) == 0%', true, '0%'],
    ['lost == 0', true, '0'],
    ['duplicated < 0.1%', false, '0.199%'],
    ['duplicated < 0.5%', true, '0.199%'],
  ])('%s → %s (measured %s)', (line, pass, text) => {
    const v = evaluateSla(parseSla(line, registry), w);
    expect(v.pass).toBe(pass);
    expect(v.measuredText).toBe(text);
    expect(v.line).toBe(line);
    expect(v.op).toBe(parseSla(line, registry).op);
  });

  it('counts a family declared by name as every kind its pattern accepts', () => {
    const grpc = buildRegistry({ vocabulary: { errorKinds: [{ name: 'grpc_server', description: 'the server failed', matches: /^grpc_(internal|unavailable)$/g }, { name: 'grpc_cancelled', description: 'cancelled' }] } });
    const w3 = run(stats({ ok: [[10, 1000]], failed: { grpc_internal: [1, 1000], grpc_unavailable: [2, 1000], grpc_cancelled: [5, 1000] } }, 1));
    expect(evaluateSla(parseSla('count(grpc_server) == 3', grpc), w3)).toMatchObject({ pass: true, measured: 3 });
    expect(evaluateSla(parseSla('count(grpc_server) == 3', grpc), w3)).toMatchObject({ pass: true, measured: 3 });
    expect(evaluateSla(parseSla('rate(grpc_cancelled) < 30%', grpc), w3)).toMatchObject({ pass: true, measuredText: '27.8%' });
  });

  it('fails a line with nothing to judge', () => {
    const none = run(stats({ failed: { refused: [1] } }, 1));
    expect(evaluateSla(parseSla('p99 < 1s', registry), none)).toMatchObject({ pass: false, measured: null, measuredText: 'no data' });
    expect(evaluateSla(parseSla('e2e p99 < 1s', registry), none)).toMatchObject({ pass: false, measuredText: 'no data' });
    expect(evaluateSla(parseSla('lag < 10', registry), none)).toMatchObject({ pass: false, measuredText: 'no data' });
    expect(evaluateSla(parseSla('lost == 0', registry), none)).toMatchObject({ pass: false, measuredText: 'no data' });
    expect(evaluateSla(parseSla('share(b1) < 50%', registry), none)).toMatchObject({ pass: false, measuredText: 'no data' });
    expect(evaluateSla(parseSla('redeliveries == 0', registry), none)).toMatchObject({ pass: true, measuredText: '0' });
    const empty = run(stats({}, 1));
    expect(evaluateSla(parseSla('errors < 1%', registry), empty)).toMatchObject({ pass: false, measuredText: 'no data' });
    expect(evaluateSla(parseSla('lost < 1%', registry), empty)).toMatchObject({ pass: false, measuredText: 'no data' });
  });
});
