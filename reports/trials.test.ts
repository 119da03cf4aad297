import { describe, expect, it } from 'vitest';
import { trialFigure } from '../harness/run/trials.ts';
import { summary } from './terminal.ts';
import { fixture } from './testing/fixtures.ts';
import { noiseLines, slaTrialText, trialLines } from './trials.ts';

/** The fixture as a --repeat 3 run: single slower than cluster-2 beyond the noise in p99, alike in throughput. */
function repeated() {
  const r = fixture();
  const [single, cluster] = r.designs;
  single!.repeat = { trials: 3, passedTrials: 0, figures: { p99: trialFigure([2_000_000, 2_100_000, 2_050_000]), throughput: trialFigure([230, 235, 240]) } };
  cluster!.repeat = { trials: 3, passedTrials: 3, figures: { p99: trialFigure([29_000, 30_000, 31_000]), throughput: trialFigure([236, 238, 241]) } };
  single!.sla[0] = { ...single!.sla[0]!, trials: { passed: 0, of: 3, measured: trialFigure([2_000_000, 2_100_000, 2_050_000]), clear: true } };
  return r;
}

describe('trials in reports', () => {
  it('shows each figure as median and 95% interval, and each SLA line with its passes and whether it is clear of the noise', () => {
    const r = repeated();
    expect(trialLines(r.designs[1]!)).toEqual([
      'over 3 trials (3 passed; median [95% interval]; this entry is the median trial by p99):',
      '  p99 30ms [27.5ms–32.5ms]',
      expect.stringMatching(/^ {2}throughput 238\/s \[\d+(\.\d)?\/s–\d+(\.\d)?\/s\]$/),
    ]);
    expect(slaTrialText(r.designs[0]!.sla[0]!)).toBe('0/3 trials, clear of the noise');
  });

  it('tells designs apart only beyond the noise', () => {
    expect(noiseLines(repeated())).toEqual([
      'between designs over 3 trials (< beyond the noise, ≈ within it):',
      '  p99: cluster-2 < single',
      '  throughput: single ≈ cluster-2',
    ]);
    expect(summary(repeated())).toMatch(/p99: cluster-2 < single/);
    expect(noiseLines(fixture())).toEqual([]);
  });
});
