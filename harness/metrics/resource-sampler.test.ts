import { describe, expect, it } from 'vitest';
import { LOAD_GENERATOR, type SecondStats } from '../result/result.ts';
import type { Usage } from '../runtime/proc-usage.ts';
import { ResourceSampler } from './resource-sampler.ts';

/** A service whose cost the test sets: `now` is what the next `usage()` gives (undefined: not running). */
class FakeService {
  now: Usage | undefined;
  calls = 0;
  gate: Promise<void> | undefined;

  constructor(now: Usage | undefined) {
    this.now = now;
  }

  async usage(): Promise<Usage | undefined> {
    this.calls++;
    await this.gate;
    return this.now && { ...this.now };
  }
}

const MB = 1024 * 1024;

function setup() {
  const app = new FakeService({ cpuUs: 1_000_000, rssBytes: 50 * MB });
  const lb = new FakeService({ cpuUs: 400_000, rssBytes: 10 * MB });
  const gen = { cpuUs: 2_000_000, rssBytes: 80 * MB };
  const sampler = new ResourceSampler(new Map([['app', app], ['lb', lb]]), () => ({ ...gen }));
  return { app, lb, gen, sampler };
}

describe('ResourceSampler', () => {
  it('gives each second the CPU each service and the load generator used in it, and memory at its end', async () => {
    const { app, lb, gen, sampler } = setup();
    await sampler.start();
    app.now = { cpuUs: 1_150_000, rssBytes: 52 * MB };
    lb.now = { cpuUs: 420_000, rssBytes: 10 * MB };
    gen.cpuUs += 60_000;
    const row = { second: 0 } as SecondStats;
    const first = await sampler.sample(row);
    expect(first).toEqual({
      app: { cpuUs: 150_000, rssBytes: 52 * MB },
      lb: { cpuUs: 20_000, rssBytes: 10 * MB },
      [LOAD_GENERATOR]: { cpuUs: 60_000, rssBytes: 80 * MB },
    });
    expect(row.resources).toEqual(first);
    app.now = { cpuUs: 1_300_000, rssBytes: 51 * MB };
    lb.now = { cpuUs: 440_000, rssBytes: 11 * MB };
    gen.cpuUs += 40_000;
    expect(await sampler.finish()).toEqual({
      app: { cpuUs: 150_000, rssBytes: 51 * MB },
      lb: { cpuUs: 20_000, rssBytes: 11 * MB },
      [LOAD_GENERATOR]: { cpuUs: 40_000, rssBytes: 80 * MB },
    });
    // 1000 operations: the services used 340 ms of CPU, the generator 100 ms.
    expect(sampler.summary(1000)).toEqual({
      byService: {
        app: { cpuUs: 300_000, cpuUsPerOp: 300, peakRssBytes: 52 * MB },
        lb: { cpuUs: 40_000, cpuUsPerOp: 40, peakRssBytes: 11 * MB },
        [LOAD_GENERATOR]: { cpuUs: 100_000, cpuUsPerOp: 100, peakRssBytes: 80 * MB },
      },
      cpuUsPerOp: 340,
      peakRssBytes: 62 * MB,
    });
    expect(sampler.summary(0).cpuUsPerOp).toBeNull();
  });

  it('leaves out a service that is not running, and counts a restarted one from zero', async () => {
    const { app, sampler } = setup();
    await sampler.start();
    app.now = { cpuUs: 1_100_000, rssBytes: 50 * MB };
    await sampler.sample();
    app.now = undefined;
    const killed = await sampler.sample();
    expect(killed).not.toHaveProperty('app');
    expect(killed).toHaveProperty('lb');
    app.now = { cpuUs: 30_000, rssBytes: 20 * MB };
    expect((await sampler.sample())!.app).toEqual({ cpuUs: 30_000, rssBytes: 20 * MB });
    app.now = { cpuUs: 80_000, rssBytes: 21 * MB };
    expect((await sampler.sample())!.app).toEqual({ cpuUs: 50_000, rssBytes: 21 * MB });
    expect(sampler.summary(100).byService.app).toEqual({ cpuUs: 180_000, cpuUsPerOp: 1800, peakRssBytes: 50 * MB });
  });

  it('never runs two passes at once: a second that closes while one runs goes without, and finish waits for it', async () => {
    const { app, lb, sampler } = setup();
    await sampler.start();
    let open!: () => void;
    app.gate = new Promise((r) => (open = r));
    app.now = { cpuUs: 1_200_000, rssBytes: 50 * MB };
    const slow = sampler.sample();
    const row = { second: 1 } as SecondStats;
    expect(await sampler.sample(row)).toBeUndefined();
    expect(app.calls).toBe(2);
    app.gate = undefined;
    const last = sampler.finish();
    open();
    expect((await slow)!.app!.cpuUs).toBe(200_000);
    expect((await last)!.app!.cpuUs).toBe(0);
    expect(row.resources).toBeUndefined();
    expect(lb.calls).toBe(3);
  });

  it('takes a failing service as one that gave no sample', async () => {
    const broken = { usage: () => Promise.reject(new Error('no /proc')) };
    const sampler = new ResourceSampler(new Map([['broken', broken]]), () => ({ cpuUs: 0, rssBytes: 1 }));
    await sampler.start();
    expect(await sampler.sample()).toEqual({ [LOAD_GENERATOR]: { cpuUs: 0, rssBytes: 1 } });
    expect(sampler.summary(10)).toEqual({ byService: { [LOAD_GENERATOR]: { cpuUs: 0, cpuUsPerOp: 0, peakRssBytes: 1 } }, cpuUsPerOp: null, peakRssBytes: 0 });
  });

  it('reads this process for the load generator by default', async () => {
    const sampler = new ResourceSampler(new Map());
    await sampler.start();
    const until = performance.now() + 100;
    while (performance.now() < until);
    const r = (await sampler.sample())![LOAD_GENERATOR]!;
    // 100 ms of spinning, some of it lost to other processes on a busy machine.
    expect(r.cpuUs).toBeGreaterThanOrEqual(10_000);
    expect(r.rssBytes).toBeGreaterThan(10 * MB);
  });
});
