// Benchmark (not a test): req/s and p99 through HAProxy, nginx and node:cluster (3 backends or
// workers each) next to one http-service process driven directly. Closed model, one run each.
//   node harness/tooling/bench/lb-throughput.ts [--duration 10s] [--connections 50]
import { parseArgs } from 'node:util';
import { targets } from '../../../targets/index.ts';
import type { TargetDefinition } from '../../../targets/target.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import { parseDuration } from '../../base/duration.ts';
import { driveClosed, startDirect, type DriveFigures } from './bench-helpers.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10s' }, connections: { type: 'string', default: '50' } } });
const durationMs = parseDuration(values.duration)!;
const connections = Number(values.connections);

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
    const { url, entry } = await startDirect(runtime, (targets[target] as TargetDefinition<unknown>).topology(options));
    rows.push([label, `${entry.program.name} ${entry.program.version}`, await driveClosed(url, { connections, durationMs, engine: 'undici', path: '/health' })]);
  } finally {
    await runtime.stopAll();
  }
}
const direct = rows[0]![2].rps;
console.log(`\nclosed model, ${connections} connections, ${durationMs / 1000} s each, GET /health (a small JSON answer, no work), node ${process.version}\n`);
console.log('| design | program | req/s | p99 | vs direct |\n| --- | --- | ---: | ---: | ---: |');
for (const [label, program, f] of rows) console.log(`| ${label} | ${program} | ${Math.round(f.rps).toLocaleString('en-US')} | ${f.p99} | ${(f.rps / direct).toFixed(2)} |`);
