import { nginxConfig, nginxService } from '../../../targets/nginx/nginx.ts';
import { createHttpDriver } from '../../drivers/http-driver.ts';
import { http, type ClosedHttpWorkload } from '../../drivers/http-workload.ts';
import { Recorder } from '../../metrics/recorder.ts';
import { formatLatency } from '../../result/format.ts';
import type { Endpoint, Runtime, StartedService } from '../../runtime/runtime.ts';
import type { Topology } from '../../runtime/service-spec.ts';
import { Wait } from '../../runtime/wait.ts';

/** nginx answering every request with a fixed 2-byte body, one worker, no access log. */
export const staticNginx = nginxService('nginx-static', 'bench', Wait.forHttp('/'), (ctx) =>
  nginxConfig(ctx.dir, 1, `  keepalive_requests 1000000;
  server { listen ${ctx.host}:${ctx.ports.http}; location / { return 200 'ok'; } }
`),
);

/** Figures of one benchmark drive. */
export interface DriveFigures {
  rps: number;
  p50: string;
  p99: string;
}

async function drive(url: string, workload: Parameters<typeof createHttpDriver>[0], durationMs: number): Promise<DriveFigures> {
  const start = performance.now();
  const endMs = start + durationMs;
  const driver = createHttpDriver(workload, { url, endMs, warmupMs: 0 });
  const recorder = new Recorder(start);
  driver.start({ recorder });
  await new Promise((r) => setTimeout(r, endMs - performance.now()));
  recorder.closeWindow(endMs);
  await driver.stop();
  await driver.close();
  const { totals } = recorder.finish();
  if (totals.errors > 0) throw new Error(`${totals.errors} errors while driving ${url}`);
  return { rps: totals.throughput, p50: formatLatency(totals.latencyUs.p50), p99: formatLatency(totals.latencyUs.p99) };
}

/** Closed model: `connections` connections as fast as the target answers. */
export function driveClosed(url: string, opts: { connections: number; durationMs: number; engine: ClosedHttpWorkload['engine']; path?: string }): Promise<DriveFigures> {
  return drive(url, http({ model: 'closed', connections: opts.connections, path: opts.path ?? '/', engine: opts.engine }), opts.durationMs);
}

/** Open model at a fixed rate. */
export function driveOpen(url: string, opts: { rate: number; durationMs: number }): Promise<DriveFigures> {
  return drive(url, http({ model: 'open', rate: opts.rate, path: '/' }), opts.durationMs);
}

/** Starts a topology with every link direct (no proxy) in any runtime and returns its entry URL. */
export async function startDirect(runtime: Runtime, topology: Topology): Promise<{ url: string; entry: StartedService }> {
  const started = new Map<string, StartedService>();
  for (const spec of topology.services) {
    const links: Record<string, Endpoint> = {};
    for (const l of (topology.links ?? []).filter((x) => x.from === spec.name)) links[l.name] = started.get(l.to)!.peerEndpoint(l.port);
    started.set(spec.name, await runtime.start(spec, links));
  }
  const entry = started.get(topology.entry.service)!;
  return { url: entry.url(topology.entry.port), entry };
}
