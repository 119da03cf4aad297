// Benchmark (not a test): req/s and p99 through HAProxy, nginx and node:cluster (3 backends or
// workers each) next to one http-service process driven directly. Closed model, one run each.
//   node harness/bench/lb-throughput.ts [--duration 10s] [--connections 50]
import { parseArgs } from 'node:util';
import { targets } from '../../targets/index.ts';
import type { TargetDefinition } from '../../targets/target.ts';
import { LocalRuntime } from '../runtime/local-runtime.ts';
import type { Endpoint, StartedService } from '../runtime/runtime.ts';
import type { Topology } from '../runtime/service-spec.ts';
import { parseDuration } from '../scenario/duration.ts';
import { driveClosed, type DriveFigures } from './bench-helpers.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10s' }, connections: { type: 'string', default: '50' } } });
const durationMs = parseDuration(values.duration)!;
const connections = Number(values.connections);

/** Starts a topology with every link direct (no proxy) and returns its entry URL. */
async function start(runtime: LocalRuntime, topology: Topology): Promise<{ url: string; entry: StartedService }> {
  const started = new Map<string, StartedService>();
  for (const spec of topology.services) {
    const links: Record<string, Endpoint> = {};
    for (const l of (topology.links ?? []).filter((x) => x.from === spec.name)) links[l.name] = started.get(l.to)!.endpoint(l.port);
    started.set(spec.name, await runtime.start(spec, links));
  }
  const entry = started.get(topology.entry.service)!;
  return { url: entry.url(topology.entry.port), entry };
}

const designs: [string, keyof typeof targets, unknown][] = [
  ['one http-service process, direct', 'http-service', {}],
  ['HAProxy roundrobin → 3 backends', 'haproxy', { balance: 'roundrobin', backends: 3 }],
  ['nginx round_robin → 3 backends', 'nginx', { balance: 'round_robin', backends: 3 }],
  ['node:cluster, 3 workers', 'node-cluster', { workers: 3 }],
];

const rows: [string, string, DriveFigures][] = [];
for (const [label, target, options] of designs) {
  const runtime = new LocalRuntime({ runId: `lbbench${process.pid}` });
  try {
    const { url, entry } = await start(runtime, (targets[target] as TargetDefinition<unknown>).topology(options));
    rows.push([label, `${entry.program.name} ${entry.program.version}`, await driveClosed(url, { connections, durationMs, engine: 'undici', path: '/health' })]);
  } finally {
    await runtime.stopAll();
  }
}
const direct = rows[0]![2].rps;
console.log(`\nclosed model, ${connections} connections, ${durationMs / 1000} s each, GET /health (a small JSON answer, no work), node ${process.version}\n`);
console.log('| design | program | req/s | p99 | vs direct |\n| --- | --- | ---: | ---: | ---: |');
for (const [label, program, f] of rows) console.log(`| ${label} | ${program} | ${Math.round(f.rps).toLocaleString('en-US')} | ${f.p99} | ${(f.rps / direct).toFixed(2)} |`);
