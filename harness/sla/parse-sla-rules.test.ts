import { describe, expect, it } from 'vitest';
import { buildRegistry } from './metric-registry.ts';
import { parseSlaRules } from './parse-sla-rules.ts';
import { everythingWorkload } from './sla-fixtures.ts';

const registry = buildRegistry(everythingWorkload);

function parse(entries: unknown[], faults = ['slow', 'kill']) {
  const problems: { path: string; message: string }[] = [];
  const rules = parseSlaRules(entries, faults, registry, problems);
  return { rules, problems };
}

describe('parseSlaRules', () => {
  it('parses plain and scoped lines with their display and scope', () => {
    const { rules, problems } = parse([
      'p99 < 100ms',
      { during: 'slow', check: 'e2e p99 < 250ms' },
      { after: 'slow', for: '5s', check: 'lag < 100' },
      { during: 'slow', check: 'remapped < 40%' },
      { before: 'slow', check: 'lost == 0' },
    ]);
    expect(problems).toEqual([]);
    expect(rules.map((r) => r.display)).toEqual(['p99 < 100ms', 'during slow: e2e p99 < 250ms', 'after slow (5s): lag < 100', 'during slow: remapped < 40%', 'before slow: lost == 0']);
    expect(rules[2]!.scope).toEqual({ kind: 'after', fault: 'slow', forMs: 5000 });
    expect(rules[1]!.expr.metric).toMatchObject({ kind: 'distribution', name: 'e2e p99' });
  });

  it('gives a recovery its until lines, or the whole-run latency and error lines', () => {
    const { rules, problems } = parse([
      'p99 < 100ms',
      'errors < 1%',
      'e2e p99 < 50ms',
      'throughput >= 100/s',
      'lost == 0',
      { after: 'slow', check: 'recovery < 3s' },
      { after: 'kill', check: 'recovery < 3s', until: ['e2e p99 < 10ms', 'lag < 100', 'redeliveries == 0'] },
    ]);
    expect(problems).toEqual([]);
    expect(rules[5]!.until!.map((e) => e.source)).toEqual(['p99 < 100ms', 'errors < 1%', 'e2e p99 < 50ms']);
    expect(rules[6]!.until!.map((e) => e.metric.kind)).toEqual(['distribution', 'gauge', 'counter']);
  });

  it('reports every problem at once, each at its path', () => {
    const { problems } = parse([
      'lsot == 0',
      'recovery < 3s',
      'remapped < 40%',
      { before: 'slow', check: 'remapped < 40%' },
      { during: 'slow', check: 'recovery < 3s' },
      { during: 'nope', check: 'p99 < 1s' },
      { during: 'slow', for: '1s', check: 'p99 < 1s' },
      { during: 'slow', check: 'p99 < 1s', until: ['errors < 1%'] },
      { after: 'slow', check: 'recovery < 3s', until: ['remapped < 5%', 'p99 < 1'] },
      { during: 'slow', after: 'slow', check: 'p99 < 1s' },
      { after: 'kill', check: 'count(slow) == 0' },
    ]);
    expect(problems).toEqual([
      { path: 'sla[0]', message: expect.stringMatching(/^SLA line 'lsot == 0': unknown metric 'lsot'; this workload offers: p<N>, .*, lost, duplicated, overlaps, remapped$/) },
      { path: 'sla[1]', message: "recovery is measured after a fault: write { after: '<fault>', check: 'recovery < 3s' }" },
      { path: 'sla[2]', message: "remapped is measured around a fault: write { during: '<fault>', check: 'remapped < 40%' }" },
      { path: 'sla[3].check', message: "remapped is measured during or after a fault: use during: 'slow' or after: 'slow'" },
      { path: 'sla[4].check', message: "recovery is measured after a fault: use after: 'slow'" },
      { path: 'sla[5].during', message: "no fault named 'nope'; faults: 'slow', 'kill'" },
      { path: 'sla[6].for', message: 'for goes with after (how long after the fault to judge)' },
      { path: 'sla[7].until', message: 'until goes with a recovery check' },
      { path: 'sla[8].until[0]', message: expect.stringMatching(/^'remapped < 5%' cannot judge a single second/) },
      { path: 'sla[8].until[1]', message: expect.stringMatching(/p99 needs a time unit/) },
      { path: 'sla[9]', message: expect.stringMatching(/exactly one of before, during or after/) },
      { path: 'sla[10].check', message: expect.stringMatching(/unknown error kind 'slow'; this workload records: timeout, refused/) },
      { path: 'sla[4]', message: expect.stringMatching(/^recovery needs thresholds/) },
    ]);
  });

  it('asks for thresholds when a recovery has none to take', () => {
    const { problems } = parse(['throughput >= 100/s', { after: 'slow', check: 'recovery < 3s' }]);
    expect(problems).toEqual([{ path: 'sla[1]', message: expect.stringMatching(/^recovery needs thresholds/) }]);
  });
});
