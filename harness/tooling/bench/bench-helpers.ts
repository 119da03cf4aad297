import { nginxConfig, nginxService } from '../../../targets/nginx/nginx.ts';
import { http, type ClosedHttpWorkload, type HttpWorkload } from '../../drivers/http-workload.ts';
import { formatLatency } from '../../result/format.ts';
import type { Endpoint, Runtime, StartedService } from '../../runtime/runtime.ts';
import type { Topology } from '../../runtime/service-spec.ts';
import { Wait } from '../../runtime/wait.ts';
import { driveHttp } from '../../testing/drive.ts';

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
  p90: string;
  p99: string;
  /** The same percentiles in µs; in the open model counted from each request's scheduled time. */
  latencyUs: { p50: number; p90: number; p99: number };
  /**
   * Sends in the window and how far behind schedule they left: `late` is over the sink's
   * threshold (ms); `lagUs` is the sink's `send_lag` distribution (µs), when it records one.
   */
  sends: { sent: number; late: number; dropped: number; maxLagMs: number; lagUs?: { p50: number; p99: number } };
  /** Operations that finished in the window or after it (ok and errors). */
  requests: number;
  /** CPU time this process spent over the drive (user + system, µs): the generator's own cost, recording included. */
  cpuUs: number;
}

/** Drives `url` for `durationMs` through the run's own measure-window step, with no warm-up. */
async function drive(url: string, workload: HttpWorkload, durationMs: number): Promise<DriveFigures> {
  const { hostname, port } = new URL(url);
  const cpuBefore = process.cpuUsage();
  const { totals, sends, distributions } = await driveHttp({ host: hostname, port: Number(port) }, workload, { windowMs: durationMs });
  const cpu = process.cpuUsage(cpuBefore);
  if (totals.errors > 0) throw new Error(`${totals.errors} errors while driving ${url}`);
  const { p50, p90, p99 } = totals.latencyUs;
  const lag = distributions.send_lag?.latencyUs;
  return {
    rps: totals.throughput,
    p50: formatLatency(p50),
    p90: formatLatency(p90),
    p99: formatLatency(p99),
    latencyUs: { p50, p90, p99 },
    sends: { ...sends, ...(lag ? { lagUs: { p50: lag.p50, p99: lag.p99 } } : {}) },
    requests: totals.ops,
    cpuUs: cpu.user + cpu.system,
  };
}

/** Closed model: `connections` connections as fast as the target answers. */
export function driveClosed(url: string, opts: { connections: number; durationMs: number; engine: ClosedHttpWorkload['engine']; path?: string }): Promise<DriveFigures> {
  return drive(url, http({ model: 'closed', connections: opts.connections, path: opts.path ?? '/', engine: opts.engine }), opts.durationMs);
}

/** Open model at a fixed rate (req/s), on `path` (default `/`). */
export function driveOpen(url: string, opts: { rate: number; durationMs: number; path?: string }): Promise<DriveFigures> {
  return drive(url, http({ model: 'open', rate: opts.rate, path: opts.path ?? '/' }), opts.durationMs);
}

/** Starts a topology with every link direct (no proxy) in any runtime and returns the URL of its first entry endpoint. */
export async function startDirect(runtime: Runtime, topology: Topology): Promise<{ url: string; entry: StartedService }> {
  const started = new Map<string, StartedService>();
  for (const spec of topology.services) {
    const links: Record<string, Endpoint> = {};
    for (const l of (topology.links ?? []).filter((x) => x.from === spec.name)) links[l.name] = started.get(l.to)!.peerEndpoint(l.port);
    started.set(spec.name, await runtime.start(spec, { links }));
  }
  const first = topology.entries[0]!.endpoints[0]!;
  const entry = started.get(first.service)!;
  return { url: entry.url(first.port), entry };
}

/**
 * Before a measured run: waits, at most `quietWaitMs`, for a second in which other processes
 * use no more than `busyCores` (`othersInASecond` measures one second and returns their cores),
 * so the tools being compared are the load being measured.
 */
export async function waitQuiet(othersInASecond: () => Promise<number>, quietWaitMs: number, busyCores: number): Promise<void> {
  const began = performance.now();
  for (;;) {
    const others = await othersInASecond();
    const waited = Math.round((performance.now() - began) / 1000);
    if (others <= busyCores) {
      if (waited > 1) process.stderr.write(`  quiet after ${waited} s\n`);
      return;
    }
    if (performance.now() - began >= quietWaitMs) {
      process.stderr.write(`  waited ${waited} s; other processes still use ${others.toFixed(2)} cores: measuring anyway\n`);
      return;
    }
  }
}
