import { spawnSync } from 'node:child_process';
import { once } from 'node:events';
import { connect, createServer, type AddressInfo } from 'node:net';
import { Toxiproxy, type Proxy as ToxiproxyProxy } from 'toxiproxy-node-client';
import { findGoTool, goTools } from '../base/go-tools.mjs';
import { FaultlineError } from '../errors.ts';
import type { Endpoint, StartedService } from '../runtime/runtime.ts';
import type { ServiceSpec } from '../runtime/service-spec.ts';
import { Wait } from '../runtime/wait.ts';

const tool = goTools.find((t) => t.command === 'toxiproxy-server')!;

/** The toxiproxy-server binary (PATH, then faultline's tool cache), or a set-up error saying how to get it. */
export function toxiproxyBinary(): string {
  const found = findGoTool(tool);
  if (!found) {
    throw new FaultlineError('setup', 'toxiproxy-server is needed for network faults but was not found on PATH or in the tool cache', {
      hint: `run 'npm run setup' (it runs: go install ${tool.module}), or put toxiproxy-server on PATH`,
    });
  }
  return found;
}

/** Toxiproxy's server as a service: API on a free loopback port, proxies on loopback too (in a container: on all its addresses). */
export function toxiproxyServerSpec(runtime: 'local' | 'docker' = 'local'): ServiceSpec {
  // In a container the image brings the server; only the local runtime needs the binary here.
  const binary = runtime === 'local' ? toxiproxyBinary() : 'toxiproxy-server';
  return {
    name: 'toxiproxy',
    target: 'toxiproxy',
    ports: ['api'],
    protocols: { api: 'http' },
    local: (ctx) => ({ command: binary, args: ['-host', ctx.host, '-port', String(ctx.ports.api)] }),
    // The official image's layout: the server at /toxiproxy.
    container: (ctx) => ({ image: 'toxiproxy', command: '/toxiproxy', args: ['-host', ctx.host, '-port', String(ctx.ports.api)] }),
    ready: Wait.forHttp('/version', { port: 'api' }),
    program: {
      name: 'toxiproxy-server',
      version: async () => {
        const r = spawnSync(binary, ['-version'], { encoding: 'utf8' });
        return (/\d+\.\d+\.\d+/.exec(`${r.stdout}${r.stderr}`)?.[0] ?? tool.version);
      },
    },
  };
}

/** One proxied link: where clients connect instead of the real endpoint. */
export interface ProxiedLink {
  name: string;
  listen: Endpoint;
  upstream: Endpoint;
  proxy: ToxiproxyProxy;
}

/** The run's Toxiproxy: creates one proxy per link and removes them again. */
export class ToxiproxyControl {
  private readonly client: Toxiproxy;
  private readonly listenHost: string;
  private readonly reachHost: string;
  readonly version: string;

  /**
   * `listenHost` is where proxies bind inside the server: loopback for a local server, all
   * addresses in a container. Clients and services reach them at the server's own host.
   */
  constructor(server: StartedService, listenHost = '127.0.0.1') {
    this.client = new Toxiproxy(server.url('api'));
    this.version = server.program.version;
    this.listenHost = listenHost;
    this.reachHost = server.endpoint('api').host;
  }

  /** Creates a proxy listening on a free port (Toxiproxy picks it) in front of `upstream`. */
  async link(proxyName: string, linkName: string, upstream: Endpoint): Promise<ProxiedLink> {
    const proxy = await this.client.createProxy({ name: proxyName, listen: `${this.listenHost}:0`, upstream: `${upstream.host}:${upstream.port}` });
    const m = /^(.*):(\d+)$/.exec(proxy.listen);
    if (!m) throw new FaultlineError('internal', `toxiproxy answered an unexpected listen address '${proxy.listen}' for link '${linkName}'`);
    return { name: linkName, listen: { host: this.reachHost, port: Number(m[2]) }, upstream, proxy };
  }

  /**
   * Creates a proxy before the service it leads to has started, so that service can be told
   * (and advertise) the address its clients reach it at; `connect` points it at the service
   * once it runs. Until then a connection through it fails.
   */
  async reserve(proxyName: string, linkName: string): Promise<{ listen: Endpoint; connect(upstream: Endpoint): Promise<ProxiedLink> }> {
    // Port 1 on loopback: nothing listens there, so an early connection is refused, not misrouted.
    const early = await this.link(proxyName, linkName, { host: '127.0.0.1', port: 1 });
    return {
      listen: early.listen,
      connect: async (upstream) => {
        const proxy = await early.proxy.update({ enabled: true, listen: early.proxy.listen, upstream: `${upstream.host}:${upstream.port}` });
        return { ...early, upstream, proxy };
      },
    };
  }

  async removeAll(): Promise<void> {
    await this.client.reset();
    const all = await this.client.getAll();
    for (const p of Object.values(all)) await p.remove();
  }
}

/** Sends `samples` small messages one at a time over `socket` and returns each round trip (µs). */
async function roundTrips(endpoint: Endpoint, samples: number): Promise<number[]> {
  const socket = connect({ host: endpoint.host, port: endpoint.port, noDelay: true });
  await once(socket, 'connect');
  const payload = Buffer.alloc(64, 1);
  const times: number[] = [];
  try {
    for (let i = 0; i < samples; i++) {
      const t = performance.now();
      let got = 0;
      const answered = new Promise<void>((resolve, reject) => {
        const onData = (d: Buffer) => {
          got += d.length;
          if (got < payload.length) return;
          socket.off('data', onData);
          socket.off('error', reject);
          resolve();
        };
        socket.on('data', onData);
        socket.once('error', reject);
      });
      socket.write(payload);
      await answered;
      times.push((performance.now() - t) * 1000);
    }
  } finally {
    socket.destroy();
  }
  return times;
}

function percentile(sorted: readonly number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.ceil((p / 100) * sorted.length) - 1)]!;
}

/**
 * What an idle proxy of this Toxiproxy server adds to a small TCP round trip (µs, p50 and p99
 * of proxied minus direct): round trips to an echo server of our own on loopback, directly and
 * through a temporary proxy with no toxic, alternating in rounds so both see the same machine.
 */
export async function measureIdleCost(control: ToxiproxyControl, samples = 400): Promise<{ p50: number; p99: number; samples: number }> {
  const echo = createServer((s) => {
    s.on('error', () => s.destroy());
    s.pipe(s);
  });
  echo.listen(0, '127.0.0.1');
  await once(echo, 'listening');
  const direct = { host: '127.0.0.1', port: (echo.address() as AddressInfo).port };
  const link = await control.link('faultline-idle-cost', 'idle-cost', direct);
  try {
    const straight: number[] = [];
    const proxied: number[] = [];
    const rounds = 4;
    for (let r = 0; r < rounds; r++) {
      straight.push(...(await roundTrips(direct, samples / rounds)));
      proxied.push(...(await roundTrips(link.listen, samples / rounds)));
    }
    straight.sort((a, b) => a - b);
    proxied.sort((a, b) => a - b);
    const added = (p: number) => Math.max(0, Math.round(percentile(proxied, p) - percentile(straight, p)));
    return { p50: added(50), p99: added(99), samples };
  } finally {
    await link.proxy.remove();
    echo.close();
  }
}
