import { describe, expect, it } from 'vitest';
import { LOAD_GENERATOR, type DesignResult } from '../harness/result/result.ts';
import { resourceLine } from './resource-line.ts';
import { fixture } from './testing/fixtures.ts';

const MB = 1024 * 1024;
const wording = { one: 'request', many: 'requests' };

function design(resources: DesignResult['resources']): DesignResult {
  const d = fixture().designs[0]!;
  if (resources) d.resources = resources;
  return d;
}

describe('resourceLine', () => {
  it('names each service of the design and the load generator, CPU in µs per operation, memory in powers of 1024', () => {
    const d = design({
      byService: {
        lb: { cpuUs: 46_000, cpuUsPerOp: 23.4, peakRssBytes: 12 * MB },
        'backend-1': { cpuUs: 240_000, cpuUsPerOp: 120.2, peakRssBytes: 60 * MB },
        [LOAD_GENERATOR]: { cpuUs: 122_000, cpuUsPerOp: 61, peakRssBytes: 90 * MB },
      },
      cpuUsPerOp: 143.6,
      peakRssBytes: 72.5 * MB,
    });
    expect(resourceLine(d, wording)).toBe('cpu: 144 µs/op (lb 23 µs, backend-1 120 µs), peak rss 72.5 MB; load generator 61 µs/op');
  });

  it('says when nothing completed or no service gave a sample, and is absent when nothing was sampled', () => {
    const none = design({ byService: { app: { cpuUs: 9000, cpuUsPerOp: null, peakRssBytes: 1.5 * 1024 * MB }, [LOAD_GENERATOR]: { cpuUs: 100, cpuUsPerOp: null, peakRssBytes: MB } }, cpuUsPerOp: null, peakRssBytes: 1.5 * 1024 * MB });
    expect(resourceLine(none, { one: 'message', many: 'messages' })).toBe('cpu: no messages completed (app —), peak rss 1.5 GB; load generator no messages completed');
    const generatorOnly = design({ byService: { [LOAD_GENERATOR]: { cpuUs: 100, cpuUsPerOp: 2, peakRssBytes: MB } }, cpuUsPerOp: null, peakRssBytes: 0 });
    expect(resourceLine(generatorOnly, wording)).toBe('cpu: no service gave a sample; load generator 2 µs/op');
    expect(resourceLine(design(undefined), wording)).toBeUndefined();
  });
});
