import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';
import type * as Grpc from '@grpc/grpc-js';
import type * as ProtoLoader from '@grpc/proto-loader';
import { z } from 'zod';
import type { Endpoint } from '../../base/endpoint.ts';
import { FaultlineError } from '../../errors.ts';
import type { MetricSink } from '../../metrics/sink.ts';
import { grpcAddress } from '../../../targets/recipe-service/grpc-health.ts';
import { protoOptions, recipeProto } from '../../../targets/recipe-service/recipes.ts';
import type { Adapter, DriverContext, LoadDriver } from '../driver.ts';
import type { SendOne } from '../pacer.ts';
import { grpcFrame, Http2Channel, type CallEvents } from './grpc-http2.ts';
import { CallPicker, grpcErrorKind, pacedDriver, recordAnswer, recordCall, type ItemTimes } from './rpc-load.ts';
import { deadlineMs, normalizeCalls, type RpcCall, type RpcWorkload } from './rpc-workload.ts';

// Loaded when a design's load is created, so listing or validating scenarios never loads gRPC.
const require = createRequire(import.meta.url);

const SERVED_BY = 'x-served-by';
/** How long `prepare` waits for every channel to connect (ms). */
const CONNECT_MS = 10_000;
/** The status codes a client reaches without an answer from the server: recorded without a latency, as a refused or timed-out HTTP call is. */
const NO_ANSWER = new Set([1, 4, 14]); // CANCELLED, DEADLINE_EXCEEDED, UNAVAILABLE

/** Client settings of a gRPC design (handed to its adapter, recorded in result.json). */
export interface GrpcClientOptions {
  /**
   * Channels per instance, each with its own HTTP/2 connection (grpc-js shares one connection
   * between channels to the same address with the same options; every channel here sets
   * `grpc.use_local_subchannel_pool`, so each keeps its own). Calls of each kind go to the
   * channels in turn. Default 1.
   */
  channels?: number;
  /** Calls in flight on one channel at most; a call beyond it waits in the channel's queue (its latency counts the wait). Default: no limit. */
  maxConcurrentCalls?: number;
  /** Interval of HTTP/2 keep-alive PINGs on each channel (`grpc.keepalive_time_ms`), in ms. Default: none. */
  keepAliveMs?: number;
  /** `gzip`: requests are compressed (`grpc.default_compression_algorithm`). Default `none`. */
  compression?: 'none' | 'gzip';
  /**
   * The client: `grpc-js` (default), or `http2`, faultline's own lean gRPC client on node:http2
   * (unary and server-streaming calls, the same channels, deadlines, keep-alive and reconnect
   * back-off), which costs the load generator about half grpc-js's CPU per call. `http2` sends
   * requests uncompressed (it reads compressed answers).
   */
  engine?: 'grpc-js' | 'http2';
}

const grpcClientSchema = z.strictObject({
  channels: z.number().int().min(1).max(256).optional(),
  maxConcurrentCalls: z.number().int().min(1).max(100_000).optional(),
  keepAliveMs: z.number().int().min(1).max(3_600_000).optional(),
  compression: z.enum(['none', 'gzip']).optional(),
  engine: z.enum(['grpc-js', 'http2']).optional(),
}).check((ctx) => {
  if (ctx.value.engine === 'http2' && ctx.value.compression === 'gzip') {
    ctx.issues.push({ code: 'custom', input: ctx.value, path: ['compression'], message: "engine 'http2' sends requests uncompressed: use engine 'grpc-js' for compression 'gzip'" });
  }
}) satisfies z.ZodType<GrpcClientOptions>;

/** One call as gRPC: its method's path, its request encoded once, how to decode an answer. */
interface GrpcCall {
  call: RpcCall;
  path: string;
  request: Buffer;
  /** The request with its 5-byte gRPC message prefix, for the http2 engine. */
  frame: Buffer;
  stream: boolean;
  decode: (b: Buffer) => unknown;
}

type MethodDefinitions = Record<string, ProtoLoader.MethodDefinition<object, object>>;

/** The Recipes service's methods from recipe.proto, loaded once. */
let recipeMethods: MethodDefinitions | undefined;
function methods(): MethodDefinitions {
  if (!recipeMethods) {
    const loader = require('@grpc/proto-loader') as typeof ProtoLoader;
    recipeMethods = loader.loadSync(fileURLToPath(recipeProto), protoOptions)['faultline.recipes.v1.Recipes'] as unknown as MethodDefinitions;
  }
  return recipeMethods;
}

/** The calls as gRPC requests, each encoded once: every call of a kind sends the same bytes. */
export function grpcCallsOf(calls: readonly RpcCall[]): GrpcCall[] {
  const defs = methods();
  return calls.map((call) => {
    const m = defs[call.method]!;
    const request = m.requestSerialize(call.args);
    return { call, path: m.path, request, frame: grpcFrame(request), stream: m.responseStream, decode: (b) => m.responseDeserialize(b) };
  });
}

const passThrough = (b: Buffer): Buffer => b;

/** A channel and the calls it has in flight, with the queue of those beyond its limit. */
export class Channel<C = Grpc.Client> {
  readonly client: C;
  private readonly max: number;
  /** Calls started and not yet ended. */
  active = 0;
  private queue: { start(): void }[] = [];
  private head = 0;

  constructor(client: C, max: number) {
    this.client = client;
    this.max = max;
  }

  /** Starts the call now, or when one of the channel's calls ends. */
  submit(call: { start(): void }): void {
    if (this.active < this.max) {
      this.active++;
      call.start();
    } else this.queue.push(call);
  }

  /** One of its calls ended: the next queued one takes its place. */
  release(): void {
    if (this.head < this.queue.length) {
      const next = this.queue[this.head]!;
      this.queue[this.head++] = undefined as never;
      if (this.head > 1024 && this.head * 2 > this.queue.length) {
        this.queue = this.queue.slice(this.head);
        this.head = 0;
      }
      next.start();
    } else this.active--;
  }
}

/** gRPC channels to every instance, `channels` each; each kind of call goes to them in turn. */
class GrpcRpcClient {
  readonly channels: Channel<Grpc.Client | Http2Channel>[];
  private readonly picker: CallPicker<Channel<Grpc.Client | Http2Channel>>;
  private readonly calls: GrpcCall[];
  readonly deadlineMs: number;
  readonly sink: MetricSink;
  readonly keepAnswers: boolean;

  constructor(endpoints: readonly Endpoint[], options: GrpcClientOptions, workload: RpcWorkload, sink: MetricSink) {
    const grpc = require('@grpc/grpc-js') as typeof Grpc;
    const channelOptions: Grpc.ChannelOptions = {
      'grpc.use_local_subchannel_pool': 1,
      ...(options.keepAliveMs !== undefined ? { 'grpc.keepalive_time_ms': options.keepAliveMs } : {}),
      ...(options.compression === 'gzip' ? { 'grpc.default_compression_algorithm': grpc.compressionAlgorithms.gzip } : {}),
    };
    const perInstance = options.channels ?? 1;
    const credentials = grpc.credentials.createInsecure();
    // Channel c of every instance, then channel c + 1: consecutive calls of a kind go to different instances.
    this.channels = Array.from({ length: perInstance * endpoints.length }, (_, i) => {
      const ep = endpoints[i % endpoints.length]!;
      const client = options.engine === 'http2'
        ? new Http2Channel(ep, options.keepAliveMs !== undefined ? { keepAliveMs: options.keepAliveMs } : {})
        : new grpc.Client(grpcAddress(ep), credentials, channelOptions);
      return new Channel<Grpc.Client | Http2Channel>(client, options.maxConcurrentCalls ?? Infinity);
    });
    const calls = normalizeCalls(workload);
    this.calls = grpcCallsOf(calls);
    this.picker = new CallPicker(calls, () => this.channels);
    this.deadlineMs = deadlineMs(workload);
    this.sink = sink;
    this.keepAnswers = workload.keepAnswers ?? false;
  }

  readonly send: SendOne = (k, dueMs, done) => {
    const { index, target } = this.picker.take(k);
    const answer = new GrpcAnswer(this, this.calls[index]!, target, dueMs, Date.now() + this.deadlineMs, done);
    target.submit(answer);
  };

  /** Connects every channel; fails naming the address that did not answer. */
  async connect(): Promise<void> {
    const deadline = Date.now() + CONNECT_MS;
    await Promise.all(
      this.channels.map(async ({ client }) => {
        try {
          await (client instanceof Http2Channel
            ? client.ready(deadline)
            : new Promise<void>((resolve, reject) => client.waitForReady(deadline, (err) => (err ? reject(err) : resolve()))));
        } catch (err) {
          const target = client instanceof Http2Channel ? client.target : client.getChannel().getTarget();
          throw new FaultlineError('target-start', `gRPC channel to ${target} did not connect within ${CONNECT_MS / 1000} s: ${(err as Error).message}`, { hint: "check that the design's gRPC port answers (its log), or that no fault cuts the link before the load starts" });
        }
      }),
    );
  }

  close(): Promise<void> {
    for (const ch of this.channels) ch.client.close();
    return Promise.resolve();
  }
}

/** One call on its channel: who served it, a stream's items, and its status when it ends. */
class GrpcAnswer implements CallEvents {
  private servedBy: string | undefined;
  /** A unary call's answer over the http2 engine, raw. */
  private unaryAnswer: Buffer | undefined;
  private readonly items: ItemTimes | undefined;
  private readonly kept: unknown[] | undefined;
  private readonly client: GrpcRpcClient;
  private readonly grpcCall: GrpcCall;
  private readonly channel: Channel<Grpc.Client | Http2Channel>;
  private readonly dueMs: number;
  private readonly deadline: number;
  private readonly done: () => void;

  constructor(client: GrpcRpcClient, grpcCall: GrpcCall, channel: Channel<Grpc.Client | Http2Channel>, dueMs: number, deadline: number, done: () => void) {
    this.client = client;
    this.grpcCall = grpcCall;
    this.channel = channel;
    this.dueMs = dueMs;
    this.deadline = deadline;
    this.done = done;
    if (grpcCall.stream) this.items = { items: 0 };
    if (grpcCall.stream && client.keepAnswers) this.kept = [];
  }

  /** Starts the call on its channel. */
  start(): void {
    const c = this.grpcCall;
    const channel = this.channel.client;
    if (channel instanceof Http2Channel) return channel.call(c.path, c.frame, this.deadline, this);
    const decode = this.client.keepAnswers ? c.decode : passThrough;
    try {
      if (c.stream) {
        const s = channel.makeServerStreamRequest(c.path, passThrough, decode, c.request, { deadline: this.deadline });
        s.on('metadata', (md: Grpc.Metadata) => this.metadata(md));
        s.on('data', (message: unknown) => this.item(message));
        // The status event below says how it ended; an error event also comes for a failure.
        s.on('error', () => {});
        s.on('status', (status: Grpc.StatusObject) => this.streamEnded(status));
      } else {
        const u = channel.makeUnaryRequest(c.path, passThrough, decode, c.request, { deadline: this.deadline }, (err, value) => this.unaryEnded(err, value));
        u.on('metadata', (md: Grpc.Metadata) => this.metadata(md));
      }
    } catch {
      // A request the client refused to start (a closed channel): the call still ends, once.
      this.finish('other', false, undefined);
    }
  }

  private metadata(md: Grpc.Metadata): void {
    const by = md.get(SERVED_BY)[0];
    if (by !== undefined) this.servedBy = String(by);
  }

  /** http2 engine: the answer's headers. */
  served(servedBy: string | undefined): void {
    if (servedBy !== undefined) this.servedBy = servedBy;
  }

  /** http2 engine: one message of the answer. */
  message(body: Buffer): void {
    if (this.grpcCall.stream) this.item(this.client.keepAnswers ? this.grpcCall.decode(body) : body);
    else this.unaryAnswer ??= body;
  }

  /** http2 engine: the call's status. */
  ended(code: number): void {
    if (code !== 0) return this.finish(grpcErrorKind(code), !NO_ANSWER.has(code), undefined);
    if (this.grpcCall.stream) return this.finish('ok', true, { items: this.kept ?? [] });
    const body = this.unaryAnswer;
    // OK with no message is a broken answer (grpc-js says UNIMPLEMENTED … no message received; INTERNAL here).
    if (body === undefined) return this.finish(grpcErrorKind(13), true, undefined);
    this.finish('ok', true, { doc: this.client.keepAnswers ? this.grpcCall.decode(body) : body });
  }

  private item(message: unknown): void {
    const items = this.items!;
    const now = performance.now();
    items.firstMs ??= now;
    items.lastMs = now;
    items.items++;
    this.kept?.push(message);
  }

  private unaryEnded(err: Grpc.ServiceError | null, value: unknown): void {
    if (err) this.finish(grpcErrorKind(err.code), !NO_ANSWER.has(err.code), undefined);
    else this.finish('ok', true, { doc: value });
  }

  private streamEnded(status: Grpc.StatusObject): void {
    if (status.code === 0) this.finish('ok', true, { items: this.kept ?? [] });
    else this.finish(grpcErrorKind(status.code), !NO_ANSWER.has(status.code), undefined);
  }

  private finish(outcome: string, answered: boolean, answer: { doc: unknown } | { items: unknown[] } | undefined): void {
    const { sink, keepAnswers } = this.client;
    this.channel.release();
    recordCall(sink, this.grpcCall.call, this.dueMs, outcome, answered, this.servedBy, this.items);
    if (keepAnswers && answer) recordAnswer(sink, this.grpcCall.call, 'grpc', this.servedBy, answer);
    this.done();
  }
}

/** The rpc workload over gRPC (grpc-js), open or closed, over the design's channels. */
function createGrpcRpcDriver(workload: RpcWorkload, ctx: DriverContext<GrpcClientOptions>): LoadDriver {
  const client = new GrpcRpcClient(ctx.entry.endpoints, ctx.client, workload, ctx.sink);
  return pacedDriver(workload, ctx.sink, { connections: client.channels.length, send: client.send, prepare: () => client.connect(), close: () => client.close() }, client.deadlineMs + 1000);
}

/** The rpc workload's gRPC adapter; its client options are a design's channels, per-channel call limit, keep-alive and compression. */
export const rpcGrpcAdapter: Adapter<RpcWorkload, GrpcClientOptions> = { client: grpcClientSchema, create: createGrpcRpcDriver };
