import { describe, expect, it } from 'vitest';
import { Recorder } from '../metrics/recorder.ts';
import { evaluateSla } from './evaluate-sla.ts';
import { parseSla } from './sla-grammar.ts';

function window() {
  const r = new Recorder(0);
  // 990 fast responses (2 ms), 10 slow ones (400 ms, 5 of them 503s), 5 timeouts: 1005 operations over 2 s.
  for (let i = 0; i < 990; i++) r.recordResponse('op', 2000, undefined, undefined);
  for (let i = 0; i < 5; i++) r.recordResponse('op', 400_000, 'http_503', undefined);
  for (let i = 0; i < 5; i++) r.recordResponse('op', 400_000, undefined, undefined);
  for (let i = 0; i < 5; i++) r.recordFailure('op', 'timeout');
  r.closeWindow(2000);
  const { totals } = r.finish();
  return { stats: totals, load: { dropped: 2, late: 0 } };
}

describe('evaluateSla', () => {
  const w = window();
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
    ['count(http_5xx) == 0', false, '5'],
    ['throughput >= 497/s', true, '497.5/s'],
    ['requests == 1005', true, '1005'],
    ['dropped == 0', false, '2'],
  ])('%s → %s (measured %s)', (line, pass, text) => {
    const v = evaluateSla(parseSla(line), w);
    expect(v.pass).toBe(pass);
    expect(v.measuredText).toBe(text);
    expect(v.line).toBe(line);
  });

  it('fails a latency line when nothing answered', () => {
    const r = new Recorder(0);
    r.recordFailure('op', 'refused');
    r.closeWindow(1000);
    const v = evaluateSla(parseSla('p99 < 1s'), { stats: r.finish().totals, load: { dropped: 0, late: 0 } });
    expect(v).toMatchObject({ pass: false, measured: null, measuredText: 'no data' });
  });
});
