import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { FaultlineError } from '../errors.ts';
import type * as v1 from './result-v1.ts';
import type { RunResult } from './result.ts';
import { comparatorOf, upgradeResult } from './upgrade-result.ts';

/** The committed schema-1 results the reports render (real runs). */
function v1Fixture(name: 'cluster-vs-single' | 'http-faults'): v1.RunResult {
  return JSON.parse(readFileSync(new URL(`../../reports/fixtures/${name}.result.json`, import.meta.url), 'utf8')) as v1.RunResult;
}

function refused(doc: unknown): FaultlineError {
  try {
    upgradeResult(doc, 'result.json');
  } catch (err) {
    expect(err).toBeInstanceOf(FaultlineError);
    return err as FaultlineError;
  }
  throw new Error('upgradeResult accepted the document');
}

const sum = (counts: Record<string, number>) => Object.values(counts).reduce((a, b) => a + b, 0);

describe('upgradeResult from schema 1', () => {
  it.each(['cluster-vs-single', 'http-faults'] as const)('keeps every figure of %s: requests become ops, servedBy the served_by tally', (name) => {
    const old = v1Fixture(name);
    const r = upgradeResult(structuredClone(old));
    expect(r.schemaVersion).toBe(2);
    expect(r.scenario).toEqual({ ...old.scenario, workloadKind: 'http', wording: { one: 'request', many: 'requests' }, metrics: {} });
    expect(r.designs.map((d) => d.name)).toEqual(old.designs.map((d) => d.name));
    for (const [i, d] of r.designs.entries()) {
      const o = old.designs[i]!;
      const { requests, ...sameTotals } = o.totals;
      expect(d.totals).toEqual({ ops: requests, ...sameTotals });
      expect(Object.keys(d.byOperation)).toEqual(Object.keys(o.operations));
      for (const [op, w] of Object.entries(o.operations)) expect(d.byOperation[op]!.ops).toBe(w.requests);
      expect(d.tallies).toEqual({ served_by: o.servedBy });
      expect(d.series.map((row) => row.ops)).toEqual(o.series.map((row) => row.requests));
      expect(d.series.map((row) => row.tallies?.served_by)).toEqual(o.series.map((row) => row.servedBy));
      expect(d.series.every((row) => !('requests' in row) && !('servedBy' in row) && !('operations' in row))).toBe(true);
      expect({ distributions: d.distributions, counters: d.counters, gauges: d.gauges, checks: d.checks }).toEqual({ distributions: {}, counters: {}, gauges: {}, checks: {} });
      expect({ links: d.links, faults: d.faults, load: d.load, services: d.services, passed: d.passed }).toEqual({ links: o.links, faults: o.faults, load: o.load, services: o.services, passed: o.passed });
      expect(d.sla.map(({ op: _op, ...rest }) => rest)).toEqual(o.sla);
    }
  });

  it('gives http-faults the served_by tally its servedBy had, and every second its operations', () => {
    const old = v1Fixture('http-faults');
    const d = upgradeResult(old).designs[0]!;
    expect(d.tallies.served_by).toEqual({ '18939': 1301, '19143': 320 });
    expect(sum(d.tallies.served_by!)).toBe(d.totals.ok);
    expect(d.totals).toMatchObject({ ops: 2000, ok: 1621, errors: 379 });
    expect(d.series[0]!.byOperation?.['GET /recipes/42']?.ops).toBe(80);
    expect(d.series.reduce((n, row) => n + sum(row.tallies?.served_by ?? {}), 0)).toBe(sum(old.designs[0]!.servedBy));
  });

  it('reads each verdict\'s comparator from its line', () => {
    expect(upgradeResult(v1Fixture('http-faults')).designs[0]!.sla.map((v) => [v.line, v.op])).toEqual([
      ['before slow-link: p99 < 50ms', '<'],
      ['during slow-link: p50 >= 90ms', '>='],
      ['during slow-link: p50 < 150ms', '<'],
      ['during thin-pipe: p99 >= 400ms', '>='],
      ['during resets: rate(reset) > 10%', '>'],
      ['during partition: errors > 30%', '>'],
      ['after partition: recovery < 2s', '<'],
      ['during freeze: p99 >= 1.5s', '>='],
      ['after freeze: recovery < 3s', '<'],
      ['during crash: errors > 30%', '>'],
      ['after crash: recovery < 3s', '<'],
      ['errors < 25%', '<'],
    ]);
    expect(upgradeResult(v1Fixture('cluster-vs-single')).designs.flatMap((d) => d.sla.map((v) => v.op))).toEqual(['<', '<', '>=', '<', '<', '>=']);
    expect(['count(timeout) == 0', 'share(backend-1) != 50%', 'p(99.9) <= 1s', 'requests>100'].map(comparatorOf)).toEqual(['==', '!=', '<=', '>']);
  });

  it('turns key remapping into the key-remap checker\'s remapped and keys counts, and declares them', () => {
    const old = v1Fixture('http-faults');
    old.designs[0]!.keys = { keys: 40, byFault: { crash: { during: 0.5, after: 0.025 }, freeze: { during: null, after: null } } };
    const r = upgradeResult(old);
    expect(r.designs[0]!.checks).toEqual({
      remapped: { checker: 'key-remap', value: null, unit: 'fraction', byFault: { crash: { during: 0.5, after: 0.025 }, freeze: { during: null, after: null } }, examples: [] },
      keys: { checker: 'key-remap', value: 40, unit: 'count', examples: [] },
    });
    expect(r.designs[0]).not.toHaveProperty('keys');
    expect(r.scenario.metrics).toEqual({
      remapped: { kind: 'check', description: expect.any(String), unit: 'fraction', better: 'lower' },
      keys: { kind: 'check', description: expect.any(String), unit: 'count', better: 'neither' },
    });
  });

  it('fills links and faults that the first schema-1 results did not have, and keeps a design\'s error', () => {
    const old = v1Fixture('cluster-vs-single');
    const first = old.designs[0] as Partial<v1.DesignResult>;
    delete first.links;
    delete first.faults;
    old.designs[1] = { ...old.designs[1]!, status: 'interrupted', error: 'interrupted by SIGINT', servedBy: {} };
    const [d0, d1] = upgradeResult(old).designs;
    expect([d0!.links, d0!.faults]).toEqual([[], []]);
    expect(d1).toMatchObject({ status: 'interrupted', error: 'interrupted by SIGINT', tallies: {} });
  });
});

describe('upgradeResult of schema 2 and of anything else', () => {
  it('returns a schema-2 document as it is', () => {
    const current = upgradeResult(v1Fixture('cluster-vs-single'));
    const same: RunResult = upgradeResult(current);
    expect(same).toBe(current);
  });

  it('refuses a document from a newer faultline, naming both schema versions and what to do', () => {
    const err = refused({ ...v1Fixture('cluster-vs-single'), schemaVersion: 3, environment: { faultline: '0.9.0' } });
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toBe('result.json has result schema 3, and this faultline reads schema 2 and older: upgrade faultline to read it (it was written by faultline 0.9.0)');
    expect(err.hint).toMatch(/upgrade faultline/);
  });

  it.each([
    ['not an object', [1, 2], 'it is not a JSON object'],
    ['null', null, 'it is not a JSON object'],
    ['without a version', { scenario: { name: 'x' }, designs: [] }, 'it has no schemaVersion'],
    ['with version 0', { schemaVersion: 0 }, 'its schemaVersion is 0, this faultline reads schemas 1 to 2'],
    ['with version "2"', { schemaVersion: '2' }, 'its schemaVersion is "2", this faultline reads schemas 1 to 2'],
    ['without a scenario name', { schemaVersion: 2, scenario: {}, designs: [] }, 'it has no scenario.name'],
    ['without designs', { schemaVersion: 1, scenario: { name: 'x' } }, 'it has no designs list'],
    ['with a design lacking series', { schemaVersion: 2, scenario: { name: 'x' }, designs: [{ name: 'a', sla: [], totals: {} }] }, 'designs[0] lacks a name, series, sla or totals'],
    ['with a verdict without comparator', { schemaVersion: 1, scenario: { name: 'x' }, designs: [{ name: 'a', series: [], totals: {}, sla: [{ line: 'p99 50ms' }] }] }, 'designs[0].sla[0] has no line with a comparator (<, <=, >, >=, ==, !=): "p99 50ms"'],
  ])('says why a document %s is not a result', (_what, doc, problem) => {
    const err = refused(doc);
    expect(err.code).toBe('invalid-argument');
    expect(err.message).toBe(`result.json is not a faultline result: ${problem}`);
    expect(err.hint).toMatch(/result\.json that faultline run wrote/);
  });
});
