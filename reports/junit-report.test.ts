import { XMLParser, XMLValidator } from 'fast-xml-parser';
import { describe, expect, it } from 'vitest';
import { COMPLETED_CASE, renderJunit } from './junit-report.ts';
import { fixture, hostile, messagingFixture, partial, XSS } from './testing/fixtures.ts';

interface Case { '@_name': string; '@_classname': string; failure?: { '@_message': string; '#text': string }; error?: { '@_message': string } }
interface Suite { '@_name': string; '@_tests': string; '@_failures': string; '@_errors': string; properties: { property: { '@_name': string; '@_value': string }[] }; testcase: Case[] }
interface Doc { testsuites: { '@_tests': string; '@_failures': string; '@_errors': string; testsuite: Suite[] } }

function parse(xml: string): Doc {
  expect(XMLValidator.validate(xml)).toBe(true);
  return new XMLParser({ ignoreAttributes: false, isArray: (name) => name === 'testsuite' || name === 'testcase' }).parse(xml) as Doc;
}

describe('junit.xml', () => {
  it('has one suite per design and one case per SLA line; failures carry the measured value and the threshold', () => {
    const result = fixture();
    const doc = parse(renderJunit(result));
    const suites = doc.testsuites.testsuite;
    expect(suites.map((s) => s['@_name'])).toEqual(['single', 'cluster-2']);
    for (const [i, d] of result.designs.entries()) {
      const suite = suites[i]!;
      expect(suite.testcase.map((c) => c['@_name'])).toEqual(d.sla.map((v) => v.line));
      for (const v of d.sla) {
        const c = suite.testcase.find((x) => x['@_name'] === v.line)!;
        expect(c['@_classname']).toBe(`cluster-vs-single.${d.name}`);
        if (v.pass) expect(c.failure).toBeUndefined();
        else expect(c.failure?.['@_message']).toBe(`measured ${v.measuredText}, threshold ${v.line.replace(/^\S+ /, '')}`);
      }
    }
    const single = suites[0]!.testcase.find((c) => c['@_name'] === 'p99 < 50ms')!;
    expect(single.failure?.['#text']).toBe('p99 < 50ms: measured 6.61s vs threshold < 50ms (whole window)');
    expect(doc.testsuites['@_tests']).toBe('6');
    expect(doc.testsuites['@_failures']).toBe('2');
    expect(doc.testsuites['@_errors']).toBe('0');
  });

  it('judges a checker count\'s SLA line like any other, and names the operations in the workload\'s words', () => {
    const doc = parse(renderJunit(messagingFixture()));
    const [queue, stream] = doc.testsuites.testsuite;
    expect(queue!.testcase.map((c) => c['@_name'])).toEqual(['p99 < 100ms', 'e2e p99 < 250ms', 'lost == 0', 'duplicated == 0']);
    expect(queue!.testcase[2]!.failure).toMatchObject({ '@_message': 'measured 3, threshold == 0', '#text': 'lost == 0: measured 3 vs threshold == 0 (whole window)' });
    expect(stream!['@_failures']).toBe('0');
    expect(queue!.properties.property.find((p) => p['@_name'] === 'messages')?.['@_value']).toBe('600');
    expect(parse(renderJunit(fixture())).testsuites.testsuite[0]!.properties.property.find((p) => p['@_name'] === 'requests')?.['@_value']).toBe('1801');
  });

  it('marks an interrupted design and a design never reached as errors', () => {
    const doc = parse(renderJunit(partial()));
    const [, interrupted, notRun] = doc.testsuites.testsuite;
    expect(interrupted!.testcase.at(-1)).toMatchObject({ '@_name': COMPLETED_CASE, error: { '@_message': 'interrupted: interrupted by SIGINT during design' } });
    expect(notRun!['@_name']).toBe('never-reached');
    expect(notRun!.testcase[0]!.error?.['@_message']).toMatch(/^not run/);
    expect(doc.testsuites['@_errors']).toBe('2');
  });

  it('keeps hostile names as text that reads back unchanged', () => {
    const xml = renderJunit(hostile());
    expect(xml).not.toContain(XSS);
    expect(parse(xml).testsuites.testsuite[0]!['@_name']).toBe(XSS);
  });
});
