import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { percentileOfSeconds, writeFaultScenario } from '../testing/fault-scenario.ts';
import type { DesignResult, FaultRecord, RunResult, SecondStats } from '../result/result.ts';
import { ownFile } from '../base/own-file.ts';
import { runCli } from '../testing/cli.ts';
import { processesOfRun } from '../testing/processes.ts';

let work: string;

beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-faults-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

const scenario = (file: string, body: { duration: string; faults: unknown[]; sla?: unknown[] }) => writeFaultScenario(work, file, { name: 'fault-test', ...body });
const p50OfSeconds = (rows: readonly SecondStats[], seconds: number[]) => percentileOfSeconds(rows, seconds, 50);
const p99OfSeconds = (rows: readonly SecondStats[], from: number, to: number) => percentileOfSeconds(rows, Array.from({ length: to - from }, (_, i) => from + i), 99);

describe('a timeline through real Toxiproxy and the real CLI', () => {
  const runId = `flt${process.pid}`;
  let result: RunResult;
  let design: DesignResult;
  let code: number | null;
  const fault = (name: string): FaultRecord => design.faults.find((f) => f.name === name)!;

  beforeAll(async () => {
    const file = await scenario('timeline.ts', {
      duration: '14s',
      faults: [
        { name: 'lat50', at: '1s', for: '3s', link: 'client->service', latency: { latency: 50 } },
        { name: 'cut', at: '6s', for: '3s', link: 'client->service', down: true },
        { name: 'freeze', at: '11s', for: '1s', service: 'service', pause: true },
      ],
      sla: [{ after: 'freeze', check: 'recovery < 2s', until: ['p99 < 50ms', 'errors < 1%'] }, { during: 'cut', check: 'count(refused) > 0' }, { during: 'freeze', check: 'p99 >= 900ms' }],
    });
    const run = runCli(['run', file, '--out', join(work, 'timeline')], { env: { FAULTLINE_RUN_ID: runId } });
    ({ code } = await run.done);
    result = JSON.parse(await readFile(join(work, 'timeline', 'result.json'), 'utf8')) as RunResult;
    design = result.designs[0]!;
  });

  it('records the proxied link, each fault as applied and removed, and the active faults per second', () => {
    expect(code).toBe(0);
    expect(result.environment.toxiproxy).toBe('2.12.0');
    expect(design.links.map((l) => l.name)).toEqual(['client->service']);
    for (const f of design.faults) {
      // Timers may fire up to a millisecond early (they count whole ms).
      expect(f.appliedAtMs! - f.atMs).toBeGreaterThanOrEqual(-1);
      expect(f.appliedAtMs! - f.atMs).toBeLessThan(100);
      expect(f.removedAtMs! - (f.atMs + f.forMs!)).toBeLessThan(100);
    }
    expect(design.series[2]?.faults).toEqual(['lat50']);
    expect(design.series[5]?.faults).toBeUndefined();
  });

  it('adds 50 ms ± 3 ms to p50 while the latency toxic is in place, and none the next second', () => {
    const baseline = p50OfSeconds(design.series, [0, 5]);
    const inside = p50OfSeconds(design.series, [2, 3]);
    expect(Math.abs(inside - baseline - 50_000)).toBeLessThanOrEqual(3000);
    const next = Math.ceil(fault('lat50').removedAtMs! / 1000);
    expect(Math.abs(p50OfSeconds(design.series, [next]) - baseline)).toBeLessThanOrEqual(3000);
  });

  it('gives connection errors only within the 3 s down window (±1 s)', () => {
    const cut = fault('cut');
    const withErrors = design.series.filter((r) => r.errors > 0).map((r) => r.second);
    expect(withErrors.length).toBeGreaterThanOrEqual(3);
    for (const s of withErrors) {
      expect(s * 1000).toBeGreaterThanOrEqual(cut.appliedAtMs! - 1000);
      expect(s * 1000).toBeLessThan(cut.removedAtMs! + 1000);
    }
    expect(design.totals.errorsByKind.refused).toBeGreaterThan(100);
    expect(design.sla.find((v) => v.line === 'during cut: count(refused) > 0')?.pass).toBe(true);
  });

  it('shows a 1 s freeze as p99 ≥ 900 ms in its window, and measures the recovery after it', () => {
    const freeze = fault('freeze');
    // The requests the freeze held back answer just after it: the window takes that second in.
    expect(p99OfSeconds(design.series, Math.floor(freeze.appliedAtMs! / 1000), Math.ceil(freeze.removedAtMs! / 1000) + 1)).toBeGreaterThanOrEqual(900_000);
    expect(design.sla.find((v) => v.line === 'during freeze: p99 >= 900ms')).toMatchObject({ pass: true });
    const recovery = design.sla.find((v) => v.line.startsWith('after freeze'))!;
    expect(recovery.measured).not.toBeNull();
    expect(recovery.measured!).toBeLessThan(2_000_000);
    expect(recovery.pass).toBe(true);
  });

  it('leaves no toxiproxy-server or service process behind', () => {
    expect(processesOfRun(runId)).toEqual([]);
  });
});

describe('link faults on a gRPC channel, through real Toxiproxy and the real CLI, with both gRPC engines', () => {
  const runId = `gflt${process.pid}`;
  let result: RunResult;
  let code: number | null;
  let stderr: string;
  const engines = ['grpc-js', 'http2'] as const;
  const design = (name: string): DesignResult => result.designs.find((d) => d.name === name)!;
  const fault = (d: DesignResult, name: string): FaultRecord => d.faults.find((f) => f.name === name)!;
  /** Errors by kind over the window's seconds that `keep` selects. */
  const errorsIn = (d: DesignResult, keep: (second: number) => boolean) => {
    const kinds: Record<string, number> = {};
    for (const r of d.series.filter((x) => keep(x.second))) for (const [k, n] of Object.entries(r.errorsByKind)) kinds[k] = (kinds[k] ?? 0) + n;
    return kinds;
  };
  /** Whole seconds of the window from `fromMs` to `toMs`. */
  const within = (fromMs: number, toMs: number) => (second: number) => second * 1000 >= fromMs && (second + 1) * 1000 <= toMs;

  beforeAll(async () => {
    // One channel per design: every call crosses the one proxied connection, so a toxic acts on every call.
    const file = join(work, 'grpc-links.ts');
    await writeFile(file, `import { defineScenario, recipeService, rpc, withClient } from ${JSON.stringify(ownFile('../index.ts', import.meta.url))};
export default defineScenario({
  name: 'grpc-link-faults',
  description: 'link faults on one gRPC channel',
  designs: {
    'grpc-js': withClient(recipeService({ protocol: 'grpc' }), { channels: 1 }),
    http2: withClient(recipeService({ protocol: 'grpc' }), { channels: 1, engine: 'http2' }),
  },
  workload: rpc({ model: 'open', rate: 100, deadline: '1s', calls: [{ method: 'GetRecipe', args: { id: 7 } }] }),
  warmup: '1s',
  duration: '16s',
  faults: [
    { name: 'lat50', at: '1s', for: '3s', link: 'client->service', latency: { latency: 50 } },
    { name: 'resets', at: '6s', for: '2s', link: 'client->service', reset_peer: { timeout: 0 } },
    { name: 'partition', at: '11s', for: '2s', link: 'client->service', down: true },
  ],
  sla: [{ during: 'partition', check: 'rate(grpc_unavailable) > 50%' }],
});
`);
    ({ code, stderr } = await runCli(['run', file, '--out', join(work, 'grpc-links')], { env: { FAULTLINE_RUN_ID: runId } }).done);
    result = JSON.parse(await readFile(join(work, 'grpc-links', 'result.json'), 'utf8')) as RunResult;
  }, 180_000);

  it('runs both designs to the end through the proxied client link', () => {
    expect(code, stderr).toBe(0);
    expect(result.designs.map((d) => [d.name, d.status, d.client?.protocol, d.links.map((l) => l.name)])).toEqual(engines.map((e) => [e, 'completed', 'grpc', ['client->service']]));
    for (const d of result.designs) expect(d.totals.ops, d.name).toBe(d.load.sent);
  });

  it.each(engines)('adds 50 ms ± 3 ms to p50 while the latency toxic is on the channel: %s', (name) => {
    const d = design(name);
    const inside = p50OfSeconds(d.series, [2, 3]);
    const baseline = p50OfSeconds(d.series, [5]);
    expect(Math.abs(inside - baseline - 50_000), name).toBeLessThanOrEqual(3000);
    expect(errorsIn(d, within(0, fault(d, 'resets').appliedAtMs!)), name).toEqual({});
  });

  it.each(engines)('fails calls as grpc_unavailable while the link resets and while it is down, and answers them all again after: %s', (name) => {
    const d = design(name);
    const resets = fault(d, 'resets');
    const partition = fault(d, 'partition');
    // The channel's connection is reset (and reconnected, and reset again) for 2 s.
    const duringResets = errorsIn(d, within(resets.appliedAtMs!, resets.removedAtMs!));
    expect(Object.keys(duringResets), name).toEqual(['grpc_unavailable']);
    expect(duringResets.grpc_unavailable, name).toBeGreaterThan(0);
    const duringPartition = errorsIn(d, within(partition.appliedAtMs!, partition.removedAtMs!));
    expect(Object.keys(duringPartition), name).toEqual(['grpc_unavailable']);
    expect(d.sla.find((v) => v.line === 'during partition: rate(grpc_unavailable) > 50%')?.pass, name).toBe(true);
    // Nothing but unavailable anywhere in the run, and the last two seconds answered in full.
    expect(Object.keys(d.totals.errorsByKind), name).toEqual(['grpc_unavailable']);
    for (const r of d.series.slice(-2)) expect({ second: r.second, ok: r.ok, errors: r.errors }, name).toEqual({ second: r.second, ok: 100, errors: 0 });
  });

  it('leaves no toxiproxy-server or service process behind', () => {
    expect(processesOfRun(runId)).toEqual([]);
  });
});

describe('faults that go wrong', () => {
  it('rejects an unknown link with the valid names (exit 2), starting nothing', async () => {
    const file = await scenario('bad-link.ts', { duration: '5s', faults: [{ name: 'x', at: '1s', link: 'lb->backend-1', latency: { latency: 5 } }] });
    const { code, stderr } = await runCli(['run', file, '--out', join(work, 'bad-link')]).done;
    expect(code).toBe(2);
    expect(stderr).toMatch(/faults\[0\]\.link: design 'single' has no link 'lb->backend-1'; its links: 'client->service'/);
  });

  it('fails the run with exit 4 when a fault cannot be applied, and stops everything', async () => {
    const runId = `fail${process.pid}`;
    const file = await scenario('bad-fault.ts', {
      duration: '6s',
      faults: [
        { name: 'lat', at: '0s', for: '1s', link: 'client->service', latency: { latency: 5 } },
        { name: 'crash', at: '1s', service: 'service', kill: 'SIGKILL' },
        { name: 'freeze-dead', at: '2s', for: '1s', service: 'service', pause: true },
      ],
    });
    const out = join(work, 'bad-fault');
    const { code, stderr } = await runCli(['run', file, '--out', out], { env: { FAULTLINE_RUN_ID: runId } }).done;
    expect(code).toBe(4);
    expect(stderr).toMatch(/fault 'freeze-dead' \(pause on service\) failed to apply at 2\.\ds: service 'service' is not running/);
    expect(processesOfRun(runId)).toEqual([]);
    const partial = JSON.parse(await readFile(join(out, 'result.json'), 'utf8')) as RunResult;
    expect(partial.complete).toBe(false);
    expect(partial.designs[0]?.faults.find((f) => f.name === 'freeze-dead')?.error).toMatch(/failed to apply/);
  });

  it('stops Toxiproxy and the services on SIGINT', async () => {
    const runId = `fint${process.pid}`;
    const file = await scenario('long.ts', { duration: '60s', faults: [{ name: 'lat', at: '1s', link: 'client->service', latency: { latency: 5 } }] });
    const run = runCli(['run', file, '--out', join(work, 'long')], { env: { FAULTLINE_RUN_ID: runId } });
    await run.waitFor(/fault: lat/);
    expect(processesOfRun(runId).filter((p) => p !== run.child.pid)).toHaveLength(2);
    run.child.kill('SIGINT');
    expect((await run.done).code).toBe(130);
    expect(processesOfRun(runId)).toEqual([]);
  });
});
