import { spawn, type ChildProcess } from 'node:child_process';
import { once } from 'node:events';
import { fileURLToPath } from 'node:url';
import { afterEach, describe, expect, it } from 'vitest';
import type { Endpoint } from '../../../base/endpoint.ts';
import { MetricSink } from '../../../metrics/sink.ts';
import { parseHostPort, TqConnection, type TqStats } from '../tq-connection.ts';
import { tqAdapter } from './tq-driver.ts';

const serverFile = fileURLToPath(new URL('../test-queue/test-queue-server.ts', import.meta.url));
const started: ChildProcess[] = [];

/** Starts one partition on a free port and resolves with where it listens. */
async function partition(env: Record<string, string>): Promise<Endpoint> {
  const child = spawn(process.execPath, [serverFile], { env: { ...process.env, PORT: '0', ...env }, stdio: ['ignore', 'pipe', 'inherit'] });
  started.push(child);
  let out = '';
  for await (const chunk of child.stdout!) {
    out += String(chunk);
    const m = /listening on (\S+),/.exec(out);
    if (m) return parseHostPort(m[1]!)!;
  }
  throw new Error(`partition exited before listening: ${out}`);
}

async function stats(ep: Endpoint): Promise<TqStats> {
  const c = await TqConnection.open(ep, 1000);
  try {
    return await c.stats(1000);
  } finally {
    c.close();
  }
}

afterEach(async () => {
  await Promise.all(started.splice(0).map(async (c) => {
    if (c.exitCode === null && c.signalCode === null) {
      c.kill('SIGTERM');
      await once(c, 'exit');
    }
  }));
});

/** Drives `ms` of open-model load at `rate` through the tq adapter, then its drain; returns what the sink and the driver saw. */
async function drive(entry: Endpoint[], rate: number, ms: number) {
  const sink = new MetricSink({ windowStartMs: performance.now(), lateThresholdMs: 10 });
  const driver = tqAdapter.create({ kind: 'test-messaging', model: 'open', rate }, {
    entry: { protocol: 'tq', endpoints: entry },
    client: tqAdapter.client.parse({}),
    sink,
    drainMs: 5000,
  });
  try {
    await driver.prepare!();
    const windowStartMs = performance.now();
    sink.anchor(windowStartMs);
    driver.start({ windowStartMs, endMs: windowStartMs + ms });
    await new Promise((r) => setTimeout(r, ms));
    await driver.stop();
    const began = performance.now();
    const caughtUp = await driver.drain!(5000);
    const drainMs = performance.now() - began;
    const summary = sink.finish();
    return { caughtUp, drainMs, summary };
  } finally {
    await driver.close();
    sink.destroy();
  }
}

describe('the tq adapter', () => {
  it('says hello to the entry, then sends and takes only at the address the partition advertised', async () => {
    const real = await partition({ NAME: 'queue-1' });
    const front = await partition({ NAME: 'queue-1', ADVERTISED: `${real.host}:${real.port}` });
    const { caughtUp, summary } = await drive([front], 100, 400);
    expect(caughtUp).toBe(true);
    const acked = summary.byOperation.publish!.ok;
    expect(acked).toBeGreaterThan(20);
    expect(await stats(front)).toEqual({ depth: 0, received: 0, dropped: 0, duplicated: 0 });
    expect(await stats(real)).toEqual({ depth: 0, received: acked, dropped: 0, duplicated: 0 });
    expect(summary.counters.consumed).toBe(acked);
    expect(summary.tallies.served_by).toEqual({ 'queue-1': acked });
  });

  it('ends the drain as soon as every partition is empty, caught up even when acked messages were dropped (the checker counts those)', async () => {
    const a = await partition({ NAME: 'queue-1', DROP_EVERY: '2' });
    const b = await partition({ NAME: 'queue-2' });
    const { caughtUp, drainMs, summary } = await drive([a, b], 100, 400);
    expect(caughtUp).toBe(true);
    expect(drainMs).toBeLessThan(1000);
    const [sa, sb] = [await stats(a), await stats(b)];
    expect(sa.dropped).toBeGreaterThan(5);
    expect(summary.byOperation.publish!.ok).toBe(sa.received + sb.received);
    expect(summary.counters.consumed).toBe(sa.received - sa.dropped + sb.received);
  });
});
