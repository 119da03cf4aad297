// Benchmark (not a test): the same designs in the local and the docker runtime, closed model,
// plus one http-service container driven through a published port (docker-proxy) next to its
// bridge address: the path the docker runtime avoids. Both runtimes' copies of a design run at
// once, idle while the other is driven: after a warm-up drive each, the drives alternate for
// --rounds rounds and the median is reported, so JIT warm-up and a busy neighbour on a shared
// machine do not favour one side.
//   node harness/tooling/bench/docker-vs-local.ts [--duration 5s] [--connections 50] [--rounds 3]
// Needs an engine and the images (node harness/tooling/docker/engine.ts start; build-images.ts); the
// FAULTLINE_IMAGE_<KEY> variables choose the images (default: the local ones).
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { targets } from '../../../targets/index.ts';
import type { TargetDefinition } from '../../../targets/target.ts';
import { localImageEnv } from '../docker/build-images.ts';
import { chooseImages } from '../../runtime/images.ts';
import { DockerRuntime, RUN_LABEL } from '../../runtime/docker-runtime.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import type { Runtime } from '../../runtime/runtime.ts';
import { parseDuration } from '../../base/duration.ts';
import { driveClosed, startDirect, type DriveFigures } from './bench-helpers.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '5s' }, connections: { type: 'string', default: '50' }, rounds: { type: 'string', default: '3' } } });
const durationMs = parseDuration(values.duration)!;
const connections = Number(values.connections);
const rounds = Number(values.rounds);
const runId = `dockerbench${process.pid}`;
const images = chooseImages({}, {}, { ...localImageEnv(), ...process.env });
const drive = (url: string) => driveClosed(url, { connections, durationMs, engine: 'undici', path: '/health' });

const designs: [string, keyof typeof targets, unknown][] = [
  ['one http-service', 'http-service', {}],
  ['HAProxy roundrobin → 3 backends', 'haproxy', { balance: 'roundrobin', backends: 3 }],
];

/** The median drive by req/s of `rounds` alternating drives of each URL, after a warm-up drive of each. */
async function alternate(urls: string[]): Promise<DriveFigures[]> {
  for (const url of urls) await driveClosed(url, { connections, durationMs: 2000, engine: 'undici', path: '/health' });
  const runs: DriveFigures[][] = urls.map(() => []);
  for (let r = 0; r < rounds; r++) for (const [i, url] of urls.entries()) runs[i]!.push(await drive(url));
  return runs.map((rs) => rs.sort((a, b) => a.rps - b.rps)[Math.floor(rs.length / 2)]!);
}

const rows: [string, DriveFigures, DriveFigures][] = [];
for (const [label, target, options] of designs) {
  const topology = () => (targets[target] as TargetDefinition<unknown>).topology(options);
  const runtimes: Runtime[] = [new LocalRuntime({ runId }), new DockerRuntime({ runId, design: 'bench', images })];
  try {
    const urls: string[] = [];
    for (const runtime of runtimes) urls.push((await startDirect(runtime, topology())).url);
    const [local, docker] = await alternate(urls);
    rows.push([label, local!, docker!]);
  } finally {
    for (const runtime of runtimes) await runtime.stopAll();
  }
}

/** One http-service container with its port published on 127.0.0.1: driven at both addresses. */
function docker(args: string[]): string {
  const r = spawnSync('docker', args, { encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`docker ${args.join(' ')}: ${r.stderr}`);
  return r.stdout.trim();
}
const targetsDir = fileURLToPath(new URL('../../../targets', import.meta.url));
const id = docker(['run', '-d', '--label', `${RUN_LABEL}=${runId}`, '-p', '127.0.0.1::8080', '-v', `${targetsDir}:/faultline/targets:ro`, '-e', 'HOST=0.0.0.0', '-e', 'PORT=8080', images.node, 'node', '/faultline/targets/http-service/http-service-server.ts']);
let paths: [DriveFigures, DriveFigures];
try {
  const ip = docker(['inspect', '-f', '{{range .NetworkSettings.Networks}}{{.IPAddress}}{{end}}', id]);
  const published = docker(['port', id, '8080/tcp']).split('\n')[0]!;
  for (let i = 0; i < 100 && spawnSync('docker', ['logs', id], { encoding: 'utf8' }).stdout.indexOf('listening') < 0; i++) await new Promise((r) => setTimeout(r, 100));
  const [bridge, proxied] = await alternate([`http://${ip}:8080`, `http://${published}`]);
  paths = [bridge!, proxied!];
} finally {
  docker(['rm', '-f', id]);
}

const n = (f: DriveFigures) => Math.round(f.rps).toLocaleString('en-US');
console.log(`\nclosed model, ${connections} connections, GET /health, median of ${rounds} alternating ${durationMs / 1000} s drives, node ${process.version}, images ${images.node} ${images.haproxy}\n`);
console.log('| design | local req/s | docker req/s (bridge address) | docker / local | local p99 | docker p99 |\n| --- | ---: | ---: | ---: | ---: | ---: |');
for (const [label, l, d] of rows) console.log(`| ${label} | ${n(l)} | ${n(d)} | ${(d.rps / l.rps).toFixed(2)} | ${l.p99} | ${d.p99} |`);
console.log('\n| one http-service container, driven at | req/s | p99 | vs bridge |\n| --- | ---: | ---: | ---: |');
console.log(`| its bridge address | ${n(paths[0])} | ${paths[0].p99} | 1.00 |`);
console.log(`| its published 127.0.0.1 port (docker-proxy) | ${n(paths[1])} | ${paths[1].p99} | ${(paths[1].rps / paths[0].rps).toFixed(2)} |`);
