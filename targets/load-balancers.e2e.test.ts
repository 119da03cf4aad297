import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { LocalRuntime } from '../harness/runtime/local-runtime.ts';
import type { Endpoint } from '../harness/runtime/runtime.ts';
import { processesOfRun } from '../harness/testing/processes.ts';
import { httpServiceSpec } from './http-service/http-service.ts';
import { haproxyTarget, type HaproxyOptions } from './haproxy/haproxy.ts';
import { nginxTarget, type NginxOptions } from './nginx/nginx.ts';

const runId = `lb${process.pid}`;
let runtime: LocalRuntime;
const links: Record<string, Endpoint> = {};

// Three backends for every balancer of this file; each balancer is started and stopped in turn.
beforeAll(async () => {
  runtime = new LocalRuntime({ runId });
  for (const name of ['backend-1', 'backend-2', 'backend-3']) {
    const svc = await runtime.start(httpServiceSpec(name, { servedBy: 'name' }));
    links[`lb->${name}`] = svc.endpoint();
  }
});
afterAll(async () => {
  await runtime.stopAll();
  expect(processesOfRun(runId)).toEqual([]);
});

/** Starts the balancer of a target's topology in front of the shared backends, sends `paths` one by one, returns who answered each. */
async function through(lb: ReturnType<typeof haproxyTarget.topology>, paths: string[], headers: Record<string, string> = {}): Promise<string[]> {
  const spec = lb.services.find((s) => s.name === 'lb')!;
  const svc = await runtime.start(spec, { links });
  try {
    const served: string[] = [];
    for (const path of paths) {
      const res = await fetch(`${svc.url()}${path}`, { headers });
      expect(res.status).toBe(200);
      await res.arrayBuffer();
      served.push(res.headers.get('x-served-by') ?? '');
    }
    return served;
  } finally {
    await svc.stop();
  }
}

function counts(served: string[]): Record<string, number> {
  const c: Record<string, number> = {};
  for (const s of served) c[s] = (c[s] ?? 0) + 1;
  return c;
}

const many = (n: number, path = '/work?ms=0') => Array.from({ length: n }, () => path);
const keys = (n: number) => Array.from({ length: n }, (_, i) => `/recipes/${i}`);
const backendNames = ['backend-1', 'backend-2', 'backend-3'];

describe('every balancing algorithm starts and serves through the real program', () => {
  const haproxyAlgorithms: HaproxyOptions[] = [
    { balance: 'roundrobin' },
    { balance: 'static-rr' },
    { balance: 'leastconn' },
    { balance: 'first' },
    { balance: 'source' },
    { balance: 'source', hashType: 'consistent' },
    { balance: 'uri' },
    { balance: 'uri', hashType: 'consistent' },
    { balance: 'hdr', header: 'x-user', hashType: 'consistent' },
    { balance: 'random' },
    { balance: 'roundrobin', weights: [1, 2, 3], maxConnPerServer: 50, redispatch: true },
  ];
  it.each(haproxyAlgorithms)('haproxy %j', async (o) => {
    const served = await through(haproxyTarget.topology(o), keys(30), { 'x-user': 'alice' });
    expect(served.every((s) => backendNames.includes(s))).toBe(true);
  });

  const nginxMethods: NginxOptions[] = [
    { balance: 'round_robin' },
    { balance: 'round_robin', weights: [1, 2, 3] },
    { balance: 'least_conn' },
    { balance: 'ip_hash' },
    { balance: 'hash', hashKey: '$request_uri' },
    { balance: 'hash', hashKey: '$request_uri', consistent: true },
    { balance: 'random_two_least_conn' },
  ];
  it.each(nginxMethods)('nginx %j', async (o) => {
    const served = await through(nginxTarget.topology(o), keys(30));
    expect(served.every((s) => backendNames.includes(s))).toBe(true);
  });
});

describe('how they spread requests', () => {
  // Round robin over healthy, equal backends: each gets a third of 300 requests, ± 5 %.
  it.each([
    ['haproxy roundrobin', haproxyTarget.topology({ balance: 'roundrobin' })],
    ['nginx round_robin', nginxTarget.topology({ balance: 'round_robin' })],
  ])('%s spreads evenly', async (_name, topology) => {
    const c = counts(await through(topology, many(300)));
    for (const b of backendNames) expect(Math.abs((c[b] ?? 0) - 100)).toBeLessThanOrEqual(5);
  });

  it('weights shift the share (nginx 1:2:3)', async () => {
    const c = counts(await through(nginxTarget.topology({ weights: [1, 2, 3] }), many(300)));
    expect(c['backend-1']).toBe(50);
    expect(c['backend-3']).toBe(150);
  });

  it('haproxy first fills backend-1 before any other', async () => {
    expect(counts(await through(haproxyTarget.topology({ balance: 'first' }), many(50)))).toEqual({ 'backend-1': 50 });
  });

  it.each([
    ['haproxy uri', haproxyTarget.topology({ balance: 'uri' })],
    ['haproxy uri consistent', haproxyTarget.topology({ balance: 'uri', hashType: 'consistent' })],
    ['nginx hash', nginxTarget.topology({ balance: 'hash' })],
    ['nginx hash consistent', nginxTarget.topology({ balance: 'hash', consistent: true })],
  ])('%s sends a key to the same backend every time, and keys to all backends', async (_name, topology) => {
    const paths = [...keys(60), ...keys(60)];
    const served = await through(topology, paths);
    expect(served.slice(60)).toEqual(served.slice(0, 60));
    expect(Object.keys(counts(served)).sort()).toEqual(backendNames);
  });
});
