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

/** Drives `workload` at one service over one protocol and reads back every answer it kept. */
async function answersOf(service: StartedService, protocol: 'http' | 'grpc', workload: RpcWorkload, windowMs = 500) {
  let answers: Answer[] = [];
  const r = await drive(rpcDriver, protocol, [service.endpoint(protocol)], workload, {}, {
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

  it('returns the same documents through both adapters, field by field, gzipped over HTTP or not', async () => {
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
      for (const protocol of ['http', 'grpc'] as const) {
        const r = await answersOf(service, protocol, workload);
        const label = `${service.name} over ${protocol}`;
        expect(r.summary.totals.errors, label).toBe(0);
        // Warm-up is 0: every answer kept was due in the window, and each is one call.
        expect(r.answers.length, label).toBe(r.summary.totals.ops);
        expect(r.answers.length, label).toBe(r.summary.sends.sent);
        for (const a of r.answers) {
          expect(a.by, label).toBe(service.name);
          if (a.call === 'GetRecipe') expect(a.doc, label).toEqual(expected.GetRecipe);
          else expect(a.items, label).toEqual(expected.list);
        }
        seen[protocol] = r.answers;
      }
      const first = (protocol: string, call: string) => seen[protocol]!.find((a) => a.call === call)!;
      expect(first('http', 'GetRecipe').doc).toEqual(first('grpc', 'GetRecipe').doc);
      expect(first('http', 'list').items).toEqual(first('grpc', 'list').items);
    }
  }, 60_000);

  it('classifies every call that overruns its deadline: grpc_deadline_exceeded over gRPC, timeout over HTTP', async () => {
    // 20 calls/s for 1 s: the schedule holds exactly 20 calls, each waiting 400 ms against a 50 ms deadline.
    const workload = rpc({ model: 'open', rate: 20, deadline: '50ms', calls: [{ method: 'Work', args: { ms: 400, mode: 'wait' } }] });
    for (const [protocol, kind] of [['grpc', 'grpc_deadline_exceeded'], ['http', 'timeout']] as const) {
      const r = await drive(rpcDriver, protocol, [plain.endpoint(protocol)], workload, {}, { windowMs: 1000 });
      expect(r.summary.sends.sent, protocol).toBe(20);
      expect(r.summary.totals.errorsByKind, protocol).toEqual({ [kind]: 20 });
      expect(r.summary.totals.ok, protocol).toBe(0);
    }
  }, 60_000);

  it('times a stream from its due time to its first and to its last item, for every call', async () => {
    // The service pauses 20 ms between items: the last of 5 comes at least 80 ms after the first.
    const workload = rpc({ model: 'open', rate: 20, calls: [{ method: 'ListRecipes', args: { count: 5, intervalMs: 20 } }] });
    for (const protocol of ['http', 'grpc'] as const) {
      const { summary } = await drive(rpcDriver, protocol, [plain.endpoint(protocol)], workload, {}, { windowMs: 1000 });
      const sent = summary.sends.sent;
      expect(sent, protocol).toBe(20);
      expect(summary.totals.ok, protocol).toBe(sent);
      expect(summary.distributions!.first_item!.count, protocol).toBe(sent);
      expect(summary.distributions!.last_item!.count, protocol).toBe(sent);
      expect(summary.counters.items, protocol).toBe(5 * sent);
      expect(summary.distributions!.first_item!.latencyUs.p50, protocol).toBeLessThan(summary.distributions!.last_item!.latencyUs.p50);
      expect(summary.tallies.served_by, protocol).toEqual({ plain: sent });
    }
  }, 60_000);

  it('opens one connection per channel, with keep-alive and compressed requests too', async () => {
    const port = plain.endpoint('grpc').port;
    for (const channels of [1, 3]) {
      // Connections from before (the readiness probe's, closing) are not the driver's.
      const before = peersOn(port);
      let opened = -1;
      const workload = rpc({ model: 'open', rate: 100, calls: [{ method: 'GetRecipe', args: { id: 1 } }] });
      const client = channels === 1 ? { channels } : { channels, keepAliveMs: 5000, compression: 'gzip' };
      const r = await drive(rpcDriver, 'grpc', [plain.endpoint('grpc')], workload, client, {
        windowMs: 600,
        meanwhile: async () => {
          await sleep(300);
          opened = [...peersOn(port)].filter((p) => !before.has(p)).length;
        },
      });
      expect(r.summary.totals.ok).toBe(r.summary.sends.sent);
      expect(opened, `${channels} channel(s)`).toBe(channels);
    }
  }, 60_000);

  it('counts calls to a killed server as grpc_unavailable, every call accounted for', async () => {
    const victim = await start({ protocol: 'grpc', name: 'victim' });
    try {
      const workload = rpc({ model: 'open', rate: 100, calls: [{ method: 'GetRecipe', args: { id: 7 } }] });
      const r = await drive(rpcDriver, 'grpc', [victim.endpoint('grpc')], workload, {}, {
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
});
