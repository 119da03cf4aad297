import type { DesignResult, RunResult, SlaVerdict } from '../harness/result/result.ts';
import { escapeXml } from './html/escape.ts';
import type { ReportFormat } from './report-format.ts';
import { designsNotRun, thresholdText, windowText } from './verdict.ts';

/** The test case every design gets when it did not run to the end (or at all): an error, never a pass. */
export const COMPLETED_CASE = 'ran to completion';

interface Case {
  name: string;
  failure?: { message: string; body: string };
  error?: string;
}

function slaCase(v: SlaVerdict): Case {
  if (v.pass) return { name: v.line };
  const message = `measured ${v.measuredText}, threshold ${thresholdText(v)}`;
  return { name: v.line, failure: { message, body: `${v.line}: measured ${v.measuredText} vs threshold ${thresholdText(v)} (${windowText(v)})` } };
}

interface Suite {
  xml: string;
  tests: number;
  failures: number;
  errors: number;
}

function suite(scenario: string, name: string, timestamp: string, seconds: number, cases: Case[], properties: [string, string][]): Suite {
  const failures = cases.filter((c) => c.failure).length;
  const errors = cases.filter((c) => c.error).length;
  const body = cases.map((c) => {
    const open = `    <testcase name="${escapeXml(c.name)}" classname="${escapeXml(`${scenario}.${name}`)}" time="0"`;
    if (c.failure) return `${open}>\n      <failure message="${escapeXml(c.failure.message)}" type="sla">${escapeXml(c.failure.body)}</failure>\n    </testcase>`;
    if (c.error) return `${open}>\n      <error message="${escapeXml(c.error)}" type="run"/>\n    </testcase>`;
    return `${open}/>`;
  });
  const props = properties.map(([k, v]) => `      <property name="${escapeXml(k)}" value="${escapeXml(v)}"/>`).join('\n');
  const xml = `  <testsuite name="${escapeXml(name)}" tests="${cases.length}" failures="${failures}" errors="${errors}" skipped="0" time="${seconds}" timestamp="${escapeXml(timestamp)}">
    <properties>
${props}
    </properties>
${body.join('\n')}
  </testsuite>`;
  return { xml, tests: cases.length, failures, errors };
}

function designSuite(result: RunResult, d: DesignResult): Suite {
  const cases = d.sla.map(slaCase);
  if (d.status !== 'completed') cases.push({ name: COMPLETED_CASE, error: `${d.status}${d.error ? `: ${d.error}` : ''}` });
  return suite(result.scenario.name, d.name, result.startedAt, result.scenario.durationMs / 1000, cases, [
    ['target', d.target],
    ['status', d.status],
    [result.scenario.wording.many, String(d.totals.ops)],
  ]);
}

/**
 * JUnit XML of a run: one test suite per design, one test case per SLA line. A failed line is a
 * `<failure>` carrying the measured value and the threshold; a design that was interrupted,
 * failed to start or was never reached has an `<error>` case, so CI never reads it as a pass.
 */
export function renderJunit(result: RunResult): string {
  const suites = [
    ...result.designs.map((d) => designSuite(result, d)),
    ...designsNotRun(result).map((name) => suite(result.scenario.name, name, result.startedAt, 0, [{ name: COMPLETED_CASE, error: 'not run: the run was cut short before this design' }], [['status', 'not-run']])),
  ];
  const sum = (key: 'tests' | 'failures' | 'errors') => suites.reduce((n, s) => n + s[key], 0);
  const seconds = (Date.parse(result.finishedAt) - Date.parse(result.startedAt)) / 1000;
  return `<?xml version="1.0" encoding="UTF-8"?>
<testsuites name="${escapeXml(`faultline ${result.scenario.name}`)}" tests="${sum('tests')}" failures="${sum('failures')}" errors="${sum('errors')}" time="${Number.isFinite(seconds) ? seconds : 0}" timestamp="${escapeXml(result.startedAt)}">
${suites.map((s) => s.xml).join('\n')}
</testsuites>
`;
}

/** `junit.xml`: each SLA line as a test case, for CI test-result views. */
export const junitReport: ReportFormat = {
  describe: 'junit.xml: one test suite per design, one test case per SLA line',
  render: (result) => [{ path: 'junit.xml', content: renderJunit(result) }],
};
