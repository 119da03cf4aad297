import { LOAD_GENERATOR, type ResourceSummary, type SecondStats } from '../result/result.ts';
import type { Usage } from '../runtime/proc-usage.ts';
import type { StartedService } from '../runtime/runtime.ts';

/** One second's figures of every service that gave a sample, and of the load generator: CPU used in it (µs), memory at its end (bytes). */
export type SecondResources = NonNullable<SecondStats['resources']>;

/** Faultline's own process: `process.cpuUsage()` (user + system) and its resident memory. */
export function ownUsage(): Usage {
  const { user, system } = process.cpuUsage();
  return { cpuUs: user + system, rssBytes: process.memoryUsage.rss() };
}

interface Tally {
  /** The last sample seen; absent until the first. */
  last?: Usage;
  /** CPU used since the first sample (µs). */
  cpuUs: number;
  peakRssBytes: number;
}

/**
 * Samples what each service of a design costs, and the load generator's own CPU, over the
 * measured window: once at its start, once after every second, once at its end. Each pass
 * asks every service at once and never runs alongside another (a pass still running when the
 * next second closes makes that second go without; the next pass's figures then cover both),
 * so sampling never holds up the run. A service that is not running (a fault killed it) gives
 * no sample; one that restarted counts again from zero, since its CPU time did.
 */
export class ResourceSampler {
  private readonly services: ReadonlyMap<string, Pick<StartedService, 'usage'>>;
  private readonly generator: () => Usage;
  private readonly tallies = new Map<string, Tally>();
  private designPeakRss = 0;
  private pending: Promise<SecondResources | undefined> | undefined;

  /** `generator` reads the load generator's cost (default: this process's). */
  constructor(services: ReadonlyMap<string, Pick<StartedService, 'usage'>>, generator: () => Usage = ownUsage) {
    this.services = services;
    this.generator = generator;
  }

  /** Takes the baseline at the window's start. */
  start(): Promise<void> {
    return this.sample().then(() => undefined);
  }

  /**
   * One pass: what each service used since the last sample, and its memory now. With `row`,
   * the figures go on `row.resources` when the pass ends. Resolves undefined when a pass is
   * still running (this one is skipped) or nothing gave a sample; never rejects.
   */
  sample(row?: SecondStats): Promise<SecondResources | undefined> {
    if (this.pending) return Promise.resolve(undefined);
    const pass = this.pass().then((r) => {
      if (r && row) row.resources = r;
      return r;
    }).finally(() => {
      this.pending = undefined;
    });
    this.pending = pass;
    return pass;
  }

  /** The last pass, at the window's end, after any pass still running. */
  async finish(): Promise<SecondResources | undefined> {
    await this.pending;
    return this.sample();
  }

  private async pass(): Promise<SecondResources | undefined> {
    // The generator is read first, at once: its CPU is this process's, which the pass itself uses.
    const own = this.generator();
    const samples = await Promise.all([...this.services].map(async ([name, s]) => [name, await s.usage().catch(() => undefined)] as const));
    const out: SecondResources = {};
    let designRss = 0;
    let sampledAny = false;
    for (const [name, u] of [...samples, [LOAD_GENERATOR, own] as const]) {
      if (!u) continue;
      const d = this.add(name, u);
      if (name !== LOAD_GENERATOR) {
        designRss += u.rssBytes;
        sampledAny = true;
      }
      if (d !== undefined) out[name] = { cpuUs: d, rssBytes: u.rssBytes };
    }
    if (sampledAny) this.designPeakRss = Math.max(this.designPeakRss, designRss);
    return Object.keys(out).length > 0 ? out : undefined;
  }

  /** Records one sample; returns the CPU used since the last one, or undefined for the first. */
  private add(name: string, u: Usage): number | undefined {
    let t = this.tallies.get(name);
    if (!t) this.tallies.set(name, (t = { cpuUs: 0, peakRssBytes: 0 }));
    t.peakRssBytes = Math.max(t.peakRssBytes, u.rssBytes);
    const last = t.last;
    t.last = u;
    if (!last) return undefined;
    // Less than before: it restarted, and has used this much since.
    const used = u.cpuUs >= last.cpuUs ? u.cpuUs - last.cpuUs : u.cpuUs;
    t.cpuUs += used;
    return used;
  }

  /**
   * The window's figures: each service's CPU (µs), per completed operation and its peak memory,
   * and the load generator's; the design's services together per operation, and the largest sum
   * of their memory in one pass. Per operation is null when none completed.
   */
  summary(opsCompleted: number): ResourceSummary {
    const perOp = (us: number) => (opsCompleted > 0 ? Math.round((us / opsCompleted) * 10) / 10 : null);
    const byService: ResourceSummary['byService'] = {};
    let designCpuUs = 0;
    let sampled = false;
    for (const [name, t] of this.tallies) {
      byService[name] = { cpuUs: Math.round(t.cpuUs), cpuUsPerOp: perOp(t.cpuUs), peakRssBytes: t.peakRssBytes };
      if (name !== LOAD_GENERATOR) {
        designCpuUs += t.cpuUs;
        sampled = true;
      }
    }
    return { byService, cpuUsPerOp: sampled ? perOp(designCpuUs) : null, peakRssBytes: this.designPeakRss };
  }
}
