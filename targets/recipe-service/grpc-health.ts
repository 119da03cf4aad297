import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';
import type { Endpoint } from '../../harness/base/endpoint.ts';
import type { Probe } from '../../harness/runtime/wait.ts';

// Loaded when a probe first runs, so listing or validating scenarios never loads gRPC.
const require = createRequire(import.meta.url);

type HealthClient = Grpc.Client & {
  Check(request: { service: string }, options: Grpc.CallOptions, callback: (err: Grpc.ServiceError | null, answer?: { status: string }) => void): Grpc.ClientUnaryCall;
};

let Health: (new (address: string, credentials: Grpc.ChannelCredentials, options: Grpc.ChannelOptions) => HealthClient) | undefined;

function healthClient(address: string): HealthClient {
  const grpc = require('@grpc/grpc-js') as typeof Grpc;
  if (!Health) {
    const loader = require('@grpc/proto-loader') as typeof ProtoLoader;
    const defs = loader.loadSync(fileURLToPath(new URL('./health.proto', import.meta.url)), { enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(defs) as unknown as { grpc: { health: { v1: { Health: typeof Health } } } };
    Health = pkg.grpc.health.v1.Health;
  }
  // Its own connection, never one a load driver's channel shares.
  return new Health!(address, grpc.credentials.createInsecure(), { 'grpc.use_local_subchannel_pool': 1 });
}

/** `host:port` as a gRPC target, with an IPv6 host in brackets. */
export function grpcAddress(ep: Endpoint): string {
  return ep.host.includes(':') ? `[${ep.host}]:${ep.port}` : `${ep.host}:${ep.port}`;
}

/**
 * Asks a server the standard gRPC health check (grpc.health.v1.Health/Check) for `service`
 * (default '': the server as a whole); resolves its status (`SERVING`, `NOT_SERVING`, …), or
 * rejects with the call's error. Gives up after `timeoutMs`.
 */
export function grpcHealthCheck(ep: Endpoint, opts: { service?: string; timeoutMs?: number; signal?: AbortSignal } = {}): Promise<string> {
  const client = healthClient(grpcAddress(ep));
  return new Promise<string>((resolve, reject) => {
    const call = client.Check({ service: opts.service ?? '' }, { deadline: Date.now() + (opts.timeoutMs ?? 1000) }, (err, answer) => {
      opts.signal?.removeEventListener('abort', cancel);
      client.close();
      if (err) reject(err);
      else resolve(answer!.status);
    });
    const cancel = () => call.cancel();
    opts.signal?.addEventListener('abort', cancel, { once: true });
  });
}

/** Readiness: the server answers the gRPC health check with SERVING. */
export const grpcHealthProbe: Probe = async (ep, signal) => (await grpcHealthCheck(ep, { signal })) === 'SERVING';
