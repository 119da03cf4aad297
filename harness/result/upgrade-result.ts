import { FaultlineError } from '../errors.ts';
import type * as v1 from './result-v1.ts';
import { RESULT_SCHEMA_VERSION, type CheckCount, type Comparator, type DesignResult, type RunResult, type ScenarioAsRun, type SecondStats, type SlaVerdict, type WindowStats } from './result.ts';

/** How schema 1 (HTTP only) named its operations. */
const HTTP_WORDING = { one: 'request', many: 'requests' } as const;

/** The checker that schema 1's `keys` became, and the counts it declares. */
const KEY_REMAP = 'key-remap';
const keyRemapMetrics: ScenarioAsRun['metrics'] = {
  remapped: { kind: 'check', description: 'of the keys seen before a fault, the fraction served by another backend during or after it', unit: 'fraction', better: 'lower' },
  keys: { kind: 'check', description: 'distinct request keys seen', unit: 'count', better: 'neither' },
};

const readHint = 'pass the result.json that faultline run wrote (results/<scenario>/<time>/result.json)';

/** The comparator of an SLA line as written: the operator before the value that ends it (`during x: p99 < 50ms` → `<`). */
const comparatorRe = /(<=|>=|==|!=|<|>)\s*-?\d+(?:\.\d+)?\s*(?:us|µs|ms|s|%|\/s)?\s*$/;

/** The comparator of an SLA line (`p99 < 50ms` → `<`), or undefined when the line names none. */
export function comparatorOf(line: string): Comparator | undefined {
  return comparatorRe.exec(line)?.[1] as Comparator | undefined;
}

function notAResult(source: string, problem: string): FaultlineError {
  return new FaultlineError('invalid-argument', `${source} is not a faultline result: ${problem}`, { hint: readHint });
}

/** Why a document of schema 1 or 2 lacks what every reader needs, or undefined when it has it. */
function shapeProblem(r: Partial<v1.RunResult> | Partial<RunResult>): string | undefined {
  if (typeof r.scenario?.name !== 'string') return 'it has no scenario.name';
  if (!Array.isArray(r.designs)) return 'it has no designs list';
  const designs: unknown[] = r.designs;
  const bad = designs.findIndex((d) => {
    const x = d as Partial<DesignResult> | null;
    return typeof x?.name !== 'string' || !Array.isArray(x.series) || !Array.isArray(x.sla) || typeof x.totals !== 'object' || x.totals === null;
  });
  if (bad >= 0) return `designs[${bad}] lacks a name, series, sla or totals`;
  return undefined;
}

/** Schema 1 verdicts carry no comparator; a line it cannot be read from makes the document unreadable. */
function comparatorProblem(r: v1.RunResult): string | undefined {
  for (const [i, d] of r.designs.entries()) {
    for (const [j, v] of d.sla.entries()) {
      if (typeof v?.line !== 'string' || comparatorOf(v.line) === undefined) return `designs[${i}].sla[${j}] has no line with a comparator (<, <=, >, >=, ==, !=): ${JSON.stringify(v?.line)}`;
    }
  }
  return undefined;
}

function mapValues<T, U>(record: Readonly<Record<string, T>>, fn: (value: T) => U): Record<string, U> {
  return Object.fromEntries(Object.entries(record).map(([k, v]) => [k, fn(v)]));
}

function windowFromV1(w: v1.WindowStats): WindowStats {
  return { ops: w.requests, ok: w.ok, errors: w.errors, errorsByKind: w.errorsByKind, throughput: w.throughput, latencyUs: w.latencyUs, histogram: w.histogram };
}

/** `servedBy` as the HTTP tally; none when nothing was served. */
function servedByTally(servedBy: Readonly<Record<string, number>> | undefined): Record<string, Record<string, number>> {
  return servedBy && Object.keys(servedBy).length > 0 ? { served_by: { ...servedBy } } : {};
}

function secondFromV1(row: v1.SecondStats): SecondStats {
  const tallies = servedByTally(row.servedBy);
  return {
    second: row.second,
    ...windowFromV1(row),
    ...(row.operations ? { byOperation: mapValues(row.operations, windowFromV1) } : {}),
    ...(Object.keys(tallies).length > 0 ? { tallies } : {}),
    ...(row.faults ? { faults: row.faults } : {}),
    ...(row.sent === undefined ? {} : { sent: row.sent }),
    ...(row.late === undefined ? {} : { late: row.late }),
    ...(row.dropped === undefined ? {} : { dropped: row.dropped }),
  };
}

/** Schema 1's key remapping as the key-remap checker's counts: `remapped` per fault, `keys` seen. */
function keyChecks(keys: v1.KeyRemap | undefined): Record<string, CheckCount> {
  if (!keys) return {};
  return {
    remapped: { checker: KEY_REMAP, value: null, unit: 'fraction', byFault: mapValues(keys.byFault, (f) => ({ during: f.during, after: f.after })), examples: [] },
    keys: { checker: KEY_REMAP, value: keys.keys, unit: 'count', examples: [] },
  };
}

function verdictFromV1(v: v1.SlaVerdict): SlaVerdict {
  return {
    line: v.line,
    ...(v.window ? { window: v.window } : {}),
    pass: v.pass,
    measured: v.measured,
    op: comparatorOf(v.line)!,
    threshold: v.threshold,
    unit: v.unit,
    measuredText: v.measuredText,
  };
}

function designFromV1(d: v1.DesignResult): DesignResult {
  return {
    name: d.name,
    target: d.target,
    status: d.status,
    ...(d.error === undefined ? {} : { error: d.error }),
    services: d.services,
    load: d.load,
    totals: windowFromV1(d.totals),
    byOperation: mapValues(d.operations ?? {}, windowFromV1),
    distributions: {},
    counters: {},
    tallies: servedByTally(d.servedBy),
    gauges: {},
    series: d.series.map(secondFromV1),
    checks: keyChecks(d.keys),
    // Schema 1 gained links and faults after its first results were written.
    links: d.links ?? [],
    faults: d.faults ?? [],
    sla: d.sla.map(verdictFromV1),
    passed: d.passed,
  };
}

function fromV1(r: v1.RunResult): RunResult {
  const hadKeys = r.designs.some((d) => d.keys !== undefined);
  return {
    schemaVersion: RESULT_SCHEMA_VERSION,
    scenario: { ...r.scenario, workloadKind: 'http', wording: { ...HTTP_WORDING }, metrics: hadKeys ? { ...keyRemapMetrics } : {} },
    environment: r.environment,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    complete: r.complete,
    passed: r.passed,
    designs: r.designs.map(designFromV1),
  };
}

/**
 * Brings a parsed result document up to the current schema (2): schema 2 is returned as is,
 * schema 1 is converted (`requests` → `ops`, `servedBy` → the `served_by` tally, `keys` → the
 * key-remap checker's `remapped` and `keys` counts, each verdict's comparator read from its
 * line). A document from a newer faultline, or one that is not a result, is an
 * `invalid-argument` FaultlineError; `source` names the document in its message (a file path).
 */
export function upgradeResult(doc: unknown, source = 'the document'): RunResult {
  if (typeof doc !== 'object' || doc === null || Array.isArray(doc)) throw notAResult(source, 'it is not a JSON object');
  const r = doc as Partial<RunResult> & { schemaVersion?: unknown; environment?: { faultline?: unknown } };
  const version: unknown = r.schemaVersion;
  if (typeof version === 'number' && Number.isInteger(version) && version > RESULT_SCHEMA_VERSION) {
    const writer = typeof r.environment?.faultline === 'string' ? ` (it was written by faultline ${r.environment.faultline})` : '';
    throw new FaultlineError('invalid-argument', `${source} has result schema ${version}, and this faultline reads schema ${RESULT_SCHEMA_VERSION} and older: upgrade faultline to read it${writer}`, {
      hint: 'upgrade faultline to the version that wrote the result, or render it with that version',
    });
  }
  if (version === undefined) throw notAResult(source, 'it has no schemaVersion');
  if (version !== 1 && version !== RESULT_SCHEMA_VERSION) throw notAResult(source, `its schemaVersion is ${JSON.stringify(version)}, this faultline reads schemas 1 to ${RESULT_SCHEMA_VERSION}`);
  const problem = shapeProblem(r) ?? (version === 1 ? comparatorProblem(doc as v1.RunResult) : undefined);
  if (problem) throw notAResult(source, problem);
  return version === RESULT_SCHEMA_VERSION ? (doc as RunResult) : fromV1(doc as v1.RunResult);
}
