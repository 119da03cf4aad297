import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import type { FaultRecord, RunResult } from '../../harness/result/result.ts';

/** The committed result of a real short run of cluster-vs-single (`reports/fixtures/make-fixture.ts`). */
export const FIXTURE_FILE = fileURLToPath(new URL('../fixtures/cluster-vs-single.result.json', import.meta.url));

/**
 * The result the fault-band tests render: a real run of http-faults at half time
 * (`node reports/fixtures/make-fixture.ts http-faults --time-scale 0.5`).
 */
export const FAULT_FIXTURE_FILE = fileURLToPath(new URL('../fixtures/http-faults.result.json', import.meta.url));

function read(file: string): RunResult {
  return JSON.parse(readFileSync(file, 'utf8')) as RunResult;
}

/** A fresh copy of the fixture (tests may change it). */
export function fixture(): RunResult {
  return read(FIXTURE_FILE);
}

/** A fresh copy of the fixture the fault-band tests render (`FAULT_FIXTURE_FILE`). */
export function faultFixture(): RunResult {
  return read(FAULT_FIXTURE_FILE);
}

/** Markup that runs script if any report writes it unescaped. */
export const XSS = '<img src=x onerror=alert(1)>';

/**
 * The fixture with every user-provided string replaced by markup that would run script or break
 * out of an element if written unescaped: the first design is named `XSS`.
 */
export function hostile(result = fixture()): RunResult {
  const [first] = result.designs;
  const oldName = first!.name;
  first!.name = XSS;
  first!.faults = [{ name: '<script>alert("fault")</script>', kind: 'latency', link: 'client->"service"', settings: {}, atMs: 1000, forMs: 2000, appliedAtMs: 1004, removedAtMs: 3002 }];
  const designs = Object.entries(result.scenario.designs).map(([k, v]) => [k === oldName ? XSS : k, v] as const);
  result.scenario = {
    ...result.scenario,
    name: '</script><script>alert("name")</script>',
    description: '<!-- --><svg onload=alert("description")> & "quotes" \'too\'',
    designs: Object.fromEntries(designs),
  };
  return result;
}

/** Fault records a run of the fixture's length could have had: two applied, one that failed to apply. */
export function sampleFaults(): FaultRecord[] {
  return [
    { name: 'slow-link', kind: 'latency', link: 'client->service', settings: { latency: { ms: 100 } }, atMs: 1000, forMs: 2000, appliedAtMs: 1003, removedAtMs: 3004 },
    { name: 'crash', kind: 'kill', service: 'service', settings: { kill: 'SIGKILL' }, atMs: 4000, appliedAtMs: 4010 },
    { name: 'never', kind: 'pause', service: 'service', settings: { pause: true }, atMs: 5000, forMs: 500, error: 'could not pause' },
  ];
}

/** The fixture with `sampleFaults()` in every design. */
export function withFaults(result = fixture()): RunResult {
  for (const d of result.designs) d.faults = sampleFaults();
  return result;
}

/** The fixture as a run cut short in its last design: that design interrupted after half its seconds, and one more design never reached. */
export function partial(result = fixture()): RunResult {
  const last = result.designs.at(-1)!;
  last.status = 'interrupted';
  last.error = 'interrupted by SIGINT during design';
  last.series = last.series.slice(0, Math.ceil(last.series.length / 2));
  last.passed = false;
  result.scenario.designs['never-reached'] = { target: 'http-service', options: {} };
  return { ...result, complete: false, passed: false };
}

/** The fixture with a regression injected into one design: its latency figures × `latency`, its throughput × `throughput`. */
export function withRegression(result = fixture(), design = 'cluster-2', factors: { latency?: number; throughput?: number } = { latency: 1.5 }): RunResult {
  const d = result.designs.find((x) => x.name === design)!;
  const l = d.totals.latencyUs;
  for (const k of ['min', 'mean', 'p50', 'p90', 'p99', 'p999', 'max'] as const) l[k] = Math.round(l[k] * (factors.latency ?? 1));
  d.totals.throughput = +(d.totals.throughput * (factors.throughput ?? 1)).toFixed(1);
  return result;
}
