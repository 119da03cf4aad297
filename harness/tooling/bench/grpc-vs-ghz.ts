// Benchmark (not a test): faultline's `rpc` workload over gRPC next to ghz, and over JSON/HTTP
// next to wrk, against one recipe service speaking both protocols, at two payload sizes. For
// each size, in turn: faultline's closed model over gRPC (one channel, like ghz's one
// connection) with each client engine (grpc-js, then its own http2), ghz with the same concurrency, faultline's closed model over JSON/HTTP (one
// connection per caller), wrk with as many connections. Every call is `GetRecipe` with the same
// id and size. Prints one run's figures as a Markdown table; exits 1 when a call failed, 2 on
// invalid options.
//   node harness/tooling/bench/grpc-vs-ghz.ts [--duration 5s] [--concurrency 16] [--sizes 0,16384]
import { spawnSync } from 'node:child_process';
import { availableParallelism } from 'node:os';
import { join } from 'node:path';
import { goTools, findGoTool } from '../../base/go-tools.mjs';
import { ownFile } from '../../base/own-file.ts';
import { rpcDriver } from '../../drivers/rpc/rpc-driver.ts';
import { rpc } from '../../drivers/rpc/rpc-workload.ts';
import { formatLatency } from '../../result/format.ts';
import { LocalRuntime } from '../../runtime/local-runtime.ts';
import type { Endpoint } from '../../runtime/runtime.ts';
import { MAX_SIZE } from '../../../targets/recipe-service/recipes.ts';
import { recipeServiceTarget } from '../../../targets/recipe-service/recipe-service.ts';
import { drive } from '../../testing/drive.ts';
import { benchOptions, benchScratch, count, measure, runProgram, startDirect, versionOf, wrkFigures } from './bench-helpers.ts';

const { values, fail, positiveInt, wholeSeconds } = benchOptions('grpc-vs-ghz', { duration: '5s', concurrency: '16', sizes: '0,16384' });
const durationMs = wholeSeconds('duration');
const concurrency = positiveInt('concurrency', values.concurrency);
if (concurrency > 10_000) fail(`--concurrency ${concurrency}: at most 10000 (the rpc workload's limit)`);
const sizes = values.sizes.split(',').map((s) => {
  const n = Number(s);
  if (!Number.isInteger(n) || n < 0 || n > MAX_SIZE) fail(`--sizes: '${s}' must be a whole number of bytes, 0 (the bare document) to ${MAX_SIZE}`);
  return n;
});
const ghzTool = goTools.find((t) => t.command === 'ghz')!;
const ghz = findGoTool(ghzTool) ?? fail(`ghz is not installed: npm run setup (it runs go install ${ghzTool.module})`);
if (spawnSync('which', ['wrk']).status !== 0) fail('wrk is not installed: apt-get install wrk (or npm run setup)');

/** The service is driven this long before each of faultline's windows opens, so neither tool meets a cold JIT. */
const WARMUP_MS = 1000;
const seconds = durationMs / 1000;
const RECIPE_ID = 7;
const protoFile = ownFile('../../../targets/recipe-service/recipe.proto', import.meta.url);

/** One drive of one tool: calls per second and latency in µs. */
interface Figures {
  callsPerS: number;
  p50Us: number;
  p99Us: number;
}

interface Row {
  size: number;
  faultlineGrpcJs: Figures;
  faultlineGrpc: Figures;
  ghz: Figures;
  faultlineHttp: Figures;
  wrk: Figures;
}

/** faultline's closed model, `concurrency` callers on `protocol` (over gRPC one channel of `engine`), every call GetRecipe(id, size). */
async function faultline(protocol: 'grpc' | 'http', ep: Endpoint, size: number, engine?: 'grpc-js' | 'http2'): Promise<Figures> {
  const workload = rpc({ model: 'closed', connections: concurrency, calls: [{ method: 'GetRecipe', args: { id: RECIPE_ID, size } }] });
  const r = await drive(rpcDriver, protocol, [ep], workload, protocol === 'grpc' ? { channels: 1, engine } : {}, { windowMs: durationMs, warmupMs: WARMUP_MS });
  const t = r.summary.totals;
  if (t.errors > 0) {
    const kinds = Object.entries(t.errorsByKind).map(([k, c]) => `${k} ${c}`).join(', ');
    throw new Error(`faultline over ${engine ?? protocol}, size ${size}: ${t.errors} of ${t.ops} calls failed (${kinds})`);
  }
  return { callsPerS: t.throughput, p50Us: t.latencyUs.p50, p99Us: t.latencyUs.p99 };
}

/** ghz's JSON report: the part read here. */
interface GhzReport {
  count: number;
  rps: number;
  statusCodeDistribution?: Record<string, number>;
  errorDistribution?: Record<string, number> | null;
  latencyDistribution?: { percentage: number; latency: number }[] | null;
}

/** ghz, `concurrency` workers over one connection, GetRecipe(id, size) for the run's duration; any non-OK status fails it. */
async function ghzRun(ep: Endpoint, size: number): Promise<Figures> {
  const { stdout } = await runProgram(ghz, [
    '--insecure', '--proto', protoFile, '--call', 'faultline.recipes.v1.Recipes.GetRecipe',
    '-d', JSON.stringify({ id: RECIPE_ID, size }), '-c', String(concurrency), '--connections', '1', '-z', `${seconds}s`,
    '--format', 'json', `${ep.host}:${ep.port}`,
  ]);
  const report = JSON.parse(stdout) as GhzReport;
  const notOk = Object.entries(report.statusCodeDistribution ?? {}).filter(([code]) => code !== 'OK');
  // ghz ends its run by cancelling the calls still in flight; those are not failures of the service.
  const failed = notOk.filter(([code]) => code !== 'Canceled' && code !== 'Unavailable');
  if (failed.length > 0) throw new Error(`ghz, size ${size}: ${failed.map(([c, n]) => `${n} ${c}`).join(', ')} of ${report.count} calls`);
  const at = (p: number) => {
    const ns = report.latencyDistribution?.find((d) => d.percentage === p)?.latency;
    if (ns === undefined) throw new Error(`ghz, size ${size}: no p${p} in its report`);
    return ns / 1000;
  };
  return { callsPerS: report.rps, p50Us: at(50), p99Us: at(99) };
}

/** wrk, one thread, `concurrency` connections, on the HTTP form of the same call. */
async function wrkRun(url: string, size: number): Promise<Figures> {
  const w = await wrkFigures(['-t1', `-c${concurrency}`, `-d${seconds}s`, '--latency', `${url}/recipes/${RECIPE_ID}?size=${size}`], `wrk, size ${size}`);
  return { callsPerS: w.rps, p50Us: w.p50Us, p99Us: w.p99Us };
}

const { scratch, runtime } = benchScratch('grpc-bench', () => new LocalRuntime({ runId: `grpcbench${process.pid}` }));

const rows: Row[] = [];
const failure = await measure(scratch, runtime, async () => {
  const topology = recipeServiceTarget.topology(recipeServiceTarget.options.parse({ protocol: 'both' }));
  const { entry } = await startDirect(runtime, topology);
  const grpcEp = entry.endpoint('grpc');
  const httpUrl = entry.url('http');
  process.stderr.write(`one recipe service: gRPC at ${grpcEp.host}:${grpcEp.port}, JSON/HTTP at ${httpUrl}\n`);
  for (const size of sizes) {
    process.stderr.write(`  size ${size}: faultline over gRPC (grpc-js), ${seconds} s (after ${WARMUP_MS / 1000} s of warm-up)\n`);
    const faultlineGrpcJs = await faultline('grpc', grpcEp, size, 'grpc-js');
    process.stderr.write(`  size ${size}: faultline over gRPC (http2), ${seconds} s (after ${WARMUP_MS / 1000} s of warm-up)\n`);
    const faultlineGrpc = await faultline('grpc', grpcEp, size, 'http2');
    process.stderr.write(`  size ${size}: ghz, ${seconds} s\n`);
    const ghzFigures = await ghzRun(grpcEp, size);
    process.stderr.write(`  size ${size}: faultline over JSON/HTTP, ${seconds} s (after ${WARMUP_MS / 1000} s of warm-up)\n`);
    const faultlineHttp = await faultline('http', entry.endpoint('http'), size);
    process.stderr.write(`  size ${size}: wrk, ${seconds} s\n`);
    const wrk = await wrkRun(httpUrl, size);
    rows.push({ size, faultlineGrpcJs, faultlineGrpc, ghz: ghzFigures, faultlineHttp, wrk });
  }
});

const lat = (f: Figures) => `${formatLatency(f.p50Us)} / ${formatLatency(f.p99Us)}`;
const sizeText = (n: number) => (n === 0 ? 'bare (~0.5 KiB)' : `${(n / 1024).toFixed(n % 1024 === 0 ? 0 : 1)} KiB`);

console.log(`\none recipe service (Node ${process.version}, @grpc/grpc-js) speaking gRPC and JSON/HTTP; ghz ${ghzTool.version}, wrk ${versionOf('wrk', ['-v'], /wrk (\S+)/)} (1 thread);`);
console.log(`closed model, ${concurrency} concurrent callers, ${seconds} s per drive, every call GetRecipe(id ${RECIPE_ID}, size), in the order faultline gRPC (grpc-js), faultline gRPC (http2), ghz, faultline HTTP, wrk;`);
console.log(`load tools and the service share this machine's ${availableParallelism()} cores.\n`);
console.log('| document | faultline gRPC calls/s: http2 (grpc-js) | ghz calls/s | ratio: http2 (grpc-js) | p50 / p99 faultline http2 (grpc-js) | p50 / p99 ghz | faultline JSON/HTTP calls/s | wrk req/s | ratio | p50 / p99 faultline | p50 / p99 wrk |');
console.log('| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |');
for (const r of rows) {
  console.log(
    `| ${sizeText(r.size)} | ${count(r.faultlineGrpc.callsPerS)} (${count(r.faultlineGrpcJs.callsPerS)}) | ${count(r.ghz.callsPerS)} ` +
      `| ${(r.faultlineGrpc.callsPerS / r.ghz.callsPerS).toFixed(2)} (${(r.faultlineGrpcJs.callsPerS / r.ghz.callsPerS).toFixed(2)}) | ${lat(r.faultlineGrpc)} (${lat(r.faultlineGrpcJs)}) | ${lat(r.ghz)} ` +
      `| ${count(r.faultlineHttp.callsPerS)} | ${count(r.wrk.callsPerS)} | ${(r.faultlineHttp.callsPerS / r.wrk.callsPerS).toFixed(2)} | ${lat(r.faultlineHttp)} | ${lat(r.wrk)} |`,
  );
}
console.log(`\nfaultline: calls answered in the window per second (totals.throughput), latency from each call's send, gRPC over one channel of the client engine named;`);
console.log(`ghz: its rps and latency distribution over one connection (${join('targets', 'recipe-service', 'recipe.proto')}); wrk: Requests/sec and its --latency percentiles.`);
if (failure !== undefined) {
  console.error(`grpc-vs-ghz: ${failure instanceof Error ? failure.message : String(failure)}`);
  process.exitCode = 1;
}
