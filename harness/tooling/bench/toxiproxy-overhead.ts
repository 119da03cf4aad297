// Benchmark (not a test): what a Toxiproxy proxy with no toxic adds, direct vs proxied, against
// static nginx: throughput in the closed model and latency at a fixed open-model rate.
//   node harness/tooling/bench/toxiproxy-overhead.ts [--duration 10s] [--connections 50] [--rate 2000]
import { parseArgs } from 'node:util';
import { ToxiproxyControl, toxiproxyServerSpec } from '../../faults/toxiproxy.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import { parseDuration } from '../../base/duration.ts';
import { driveClosed, driveOpen, staticNginx, type DriveFigures } from './bench-helpers.ts';

const { values } = parseArgs({ options: { duration: { type: 'string', default: '10s' }, connections: { type: 'string', default: '50' }, rate: { type: 'string', default: '2000' } } });
const durationMs = parseDuration(values.duration)!;
const connections = Number(values.connections);
const rate = Number(values.rate);

const runtime = new LocalRuntime({ runId: `tpbench${process.pid}` });
try {
  const nginx = await runtime.start(staticNginx);
  const control = new ToxiproxyControl(await runtime.start(toxiproxyServerSpec()));
  const link = await control.link('bench', 'client->nginx', nginx.endpoint());
  const direct = nginx.url();
  const proxied = `http://${link.listen.host}:${link.listen.port}`;
  const closed = { direct: await driveClosed(direct, { connections, durationMs, engine: 'undici' }), proxied: await driveClosed(proxied, { connections, durationMs, engine: 'undici' }) };
  const open = { direct: await driveOpen(direct, { rate, durationMs }), proxied: await driveOpen(proxied, { rate, durationMs }) };
  const row = (name: string, f: DriveFigures) => `| ${name} | ${Math.round(f.rps).toLocaleString('en-US')} | ${f.p50} | ${f.p99} |`;
  console.log(`\nnginx ${nginx.program.version} static, toxiproxy-server ${control.version} with no toxic, ${durationMs / 1000} s each; node ${process.version}\n`);
  console.log('| path | req/s | p50 | p99 |\n| --- | ---: | ---: | ---: |');
  console.log(row(`closed model, ${connections} connections, direct`, closed.direct));
  console.log(row(`closed model, ${connections} connections, through Toxiproxy`, closed.proxied));
  console.log(row(`open model, ${rate} req/s, direct`, open.direct));
  console.log(row(`open model, ${rate} req/s, through Toxiproxy`, open.proxied));
  console.log(`\nthroughput through Toxiproxy: ${(closed.proxied.rps / closed.direct.rps).toFixed(2)}× of direct`);
} finally {
  await runtime.stopAll();
}
