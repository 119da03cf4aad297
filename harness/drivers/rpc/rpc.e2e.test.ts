import { readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { recipe } from '../../../targets/recipe-service/recipes.ts';
import { recipeServiceTarget, type RecipeServiceOptions } from '../../../targets/recipe-service/recipe-service.ts';
import { grpcHealthCheck } from '../../../targets/recipe-service/grpc-health.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import type { StartedService } from '../../runtime/runtime.ts';
import { drive } from '../../testing/drive.ts';
import { processesOfRun } from '../../testing/processes.ts';
import { rpcDriver } from './rpc-driver.ts';
import { rpc, type RpcWorkload } from './rpc-workload.ts';

const runId = `rpc${process.pid}`;
let runtime: LocalRuntime;
/** One service speaking both protocols, gzipping its HTTP answers; one plain. */
let gzipped: StartedService;
let plain: StartedService;

async function start(options: RecipeServiceOptions): Promise<StartedService> {
  const topology = recipeServiceTarget.topology(recipeServiceTarget.options.parse(options));
  return runtime.start(topology.services[0]!);
}

beforeAll(async () => {
  runtime = new LocalRuntime({ runId });
  gzipped = await start({ protocol: 'both', compression: 'gzip', name: 'zipped' });
  plain = await start({ protocol: 'both', name: 'plain' });
}, 60_000);

afterAll(async () => {
  await runtime.stopAll();
  expect(processesOfRun(runId)).toEqual([]);
});

interface Answer {
  ev: string;
  call: string;
  protocol: string;
  by: string;
  doc?: unknown;
  items?: unknown[];
}

/** The ways a call goes out: JSON over HTTP, and gRPC through each of the gRPC adapter's engines. */
const clients = [
  { label: 'http', protocol: 'http', client: {} },
  { label: 'grpc (grpc-js)', protocol: 'grpc', client: {} },
  { label: 'grpc (http2)', protocol: 'grpc', client: { engine: 'http2' } },
] as const;
const grpcEngines = clients.filter((c) => c.protocol === 'grpc');

/** Drives `workload` at one service over one protocol and reads back every answer it kept. */
async function answersOf(service: StartedService, protocol: 'http' | 'grpc', client: object, workload: RpcWorkload, windowMs = 500) {
  let answers: Answer[] = [];
  const r = await drive(rpcDriver, protocol, [service.endpoint(protocol)], workload, client, {
    windowMs,
    history: async (file) => {
      answers = readFileSync(file, 'utf8').trim().split('\n').map((l) => JSON.parse(l) as Answer).filter((a) => a.ev === 'answer');
    },
  });
  return { ...r, answers };
}

/** The peers of the server-side TCP connections established on a local port (Linux /proc/net/tcp and tcp6). */
function peersOn(port: number): Set<string> {
  const hex = port.toString(16).toUpperCase().padStart(4, '0');
  const peers = new Set<string>();
  for (const file of ['/proc/net/tcp', '/proc/net/tcp6']) {
    for (const line of readFileSync(file, 'utf8').split('\n').slice(1)) {
      const [, local, remote, state] = line.trim().split(/\s+/);
      if (local?.endsWith(`:${hex}`) && state === '01') peers.add(remote!);
    }
  }
  return peers;
}

describe('the rpc workload against a real recipe service', () => {
  it('answers the standard gRPC health check with SERVING, and NOT_FOUND for a service it lacks', async () => {
    expect(await grpcHealthCheck(plain.endpoint('grpc'))).toBe('SERVING');
    await expect(grpcHealthCheck(plain.endpoint('grpc'), { service: 'no.such.Service' })).rejects.toMatchObject({ code: 5 });
  });

  it('returns the same documents through both adapters and both gRPC engines, field by field, gzipped over HTTP or not', async () => {
    const workload = rpc({
      model: 'open',
      rate: 40,
      keepAnswers: true,
      calls: [
        { method: 'GetRecipe', args: { id: 42, size: 3000 } },
        { name: 'list', method: 'ListRecipes', args: { count: 4, size: 700 } },
      ],
    });
    const expected = { GetRecipe: recipe(42, 3000), list: [1, 2, 3, 4].map((id) => recipe(id, 700)) };
    // The test's own truth: the document is padded to exactly the size asked for.
    expect(JSON.stringify(expected.GetRecipe).length).toBe(3000);
    for (const service of [gzipped, plain]) {
      const seen: Record<string, Answer[]> = {};
      for (const { label: how, protocol, client } of clients) {
        const r = await answersOf(service, protocol, client, workload);
        const label = `${service.name} over ${how}`;
        expect(r.summary.totals.errors, label).toBe(0);
        // Warm-up is 0: every answer kept was due in the window, and each is one call.
        expect(r.answers.length, label).toBe(r.summary.totals.ops);
        expect(r.answers.length, label).toBe(r.summary.sends.sent);
        for (const a of r.answers) {
          expect(a.by, label).toBe(service.name);
          if (a.call === 'GetRecipe') expect(a.doc, label).toEqual(expected.GetRecipe);
          else expect(a.items, label).toEqual(expected.list);
        }
        seen[how] = r.answers;
      }
      const first = (how: string, call: string) => seen[how]!.find((a) => a.call === call)!;
      for (const { label: how } of grpcEngines) {
        expect(first('http', 'GetRecipe').doc, how).toEqual(first(how, 'GetRecipe').doc);
        expect(first('http', 'list').items, how).toEqual(first(how, 'list').items);
      }
    }
  }, 60_000);

  it('classifies every call that overruns its deadline: grpc_deadline_exceeded over gRPC, timeout over HTTP', async () => {
    // 20 calls/s for 1 s: the schedule holds exactly 20 calls, each waiting 400 ms against a 50 ms deadline.
    const workload = rpc({ model: 'open', rate: 20, deadline: '50ms', calls: [{ method: 'Work', args: { ms: 400, mode: 'wait' } }] });
    for (const { label, protocol, client } of clients) {
      const kind = protocol === 'grpc' ? 'grpc_deadline_exceeded' : 'timeout';
      const r = await drive(rpcDriver, protocol, [plain.endpoint(protocol)], workload, client, { windowMs: 1000 });
      expect(r.summary.sends.sent, label).toBe(20);
      expect(r.summary.totals.errorsByKind, label).toEqual({ [kind]: 20 });
      expect(r.summary.totals.ok, label).toBe(0);
    }
  }, 60_000);

  it('times a stream from its due time to its first and to its last item, for every call', async () => {
    // The service pauses 20 ms between items: the last of 5 comes at least 80 ms after the first.
    const workload = rpc({ model: 'open', rate: 20, calls: [{ method: 'ListRecipes', args: { count: 5, intervalMs: 20 } }] });
    for (const { label, protocol, client } of clients) {
      const { summary } = await drive(rpcDriver, protocol, [plain.endpoint(protocol)], workload, client, { windowMs: 1000 });
      const sent = summary.sends.sent;
      expect(sent, label).toBe(20);
      expect(summary.totals.ok, label).toBe(sent);
      expect(summary.distributions!.first_item!.count, label).toBe(sent);
      expect(summary.distributions!.last_item!.count, label).toBe(sent);
      expect(summary.counters.items, label).toBe(5 * sent);
      expect(summary.distributions!.first_item!.latencyUs.p50, label).toBeLessThan(summary.distributions!.last_item!.latencyUs.p50);
      expect(summary.tallies.served_by, label).toEqual({ plain: sent });
    }
  }, 60_000);

  it('opens one connection per channel, with keep-alive and compressed requests too', async () => {
    const port = plain.endpoint('grpc').port;
    for (const [channels, client] of [
      [1, { channels: 1 }],
      [3, { channels: 3, keepAliveMs: 5000, compression: 'gzip' }],
      [1, { channels: 1, engine: 'http2' }],
      [3, { channels: 3, keepAliveMs: 5000, engine: 'http2' }],
    ] as const) {
      // Connections from before (the readiness probe's, closing) are not the driver's.
      const before = peersOn(port);
      let opened = -1;
      const workload = rpc({ model: 'open', rate: 100, calls: [{ method: 'GetRecipe', args: { id: 1 } }] });
      const r = await drive(rpcDriver, 'grpc', [plain.endpoint('grpc')], workload, client, {
        windowMs: 600,
        meanwhile: async () => {
          await sleep(300);
          opened = [...peersOn(port)].filter((p) => !before.has(p)).length;
        },
      });
      expect(r.summary.totals.ok).toBe(r.summary.sends.sent);
      expect(opened, `${JSON.stringify(client)}`).toBe(channels);
    }
  }, 60_000);

  it.each(grpcEngines)('counts calls to a killed server as grpc_unavailable, every call accounted for: $label', async ({ client }) => {
    const victim = await start({ protocol: 'grpc', name: 'victim' });
    try {
      const workload = rpc({ model: 'open', rate: 100, calls: [{ method: 'GetRecipe', args: { id: 7 } }] });
      const r = await drive(rpcDriver, 'grpc', [victim.endpoint('grpc')], workload, client, {
        windowMs: 1500,
        meanwhile: async () => {
          await sleep(500);
          await victim.kill('SIGKILL');
        },
      });
      const { ok, errorsByKind } = r.summary.totals;
      expect(r.summary.sends.sent).toBe(150);
      expect(Object.keys(errorsByKind)).toEqual(['grpc_unavailable']);
      expect(ok).toBeGreaterThan(0);
      expect(ok + errorsByKind.grpc_unavailable!).toBe(150);
    } finally {
      await victim.stop();
    }
  }, 60_000);

  it.each(grpcEngines)('reconnects a channel to a server restarted on its port, calls answered again: $label', async ({ client }) => {
    const victim = await start({ protocol: 'grpc', name: 'phoenix' });
    try {
      // Killed 0.5 s in and started again; a channel retries after 1 s, then 1.6 s more (back-off):
      // whatever the restart takes within that, the window's last second is answered in full.
      const workload = rpc({ model: 'open', rate: 50, calls: [{ method: 'GetRecipe', args: { id: 7 } }] });
      const r = await drive(rpcDriver, 'grpc', [victim.endpoint('grpc')], workload, client, {
        windowMs: 5000,
        meanwhile: async () => {
          await sleep(500);
          await victim.kill('SIGKILL');
          await victim.restart();
        },
      });
      const { ok, errorsByKind } = r.summary.totals;
      expect(r.summary.sends.sent).toBe(250);
      expect(Object.keys(errorsByKind)).toEqual(['grpc_unavailable']);
      expect(ok + errorsByKind.grpc_unavailable!).toBe(250);
      const last = r.summary.series.at(-1)!;
      expect(last.second).toBe(4);
      expect({ ok: last.ok, errors: last.errors }).toEqual({ ok: 50, errors: 0 });
    } finally {
      await victim.stop();
    }
  }, 60_000);
});
