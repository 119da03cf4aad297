import { z } from 'zod';
import { Wait } from '../../harness/runtime/wait.ts';
import type { ServiceSpec, Topology } from '../../harness/runtime/service-spec.ts';
import { nodeProgram, nodeService, type TargetDefinition } from '../target.ts';
import { redisPersistenceModes, redisSpec, type RedisPersistence } from '../redis/redis.ts';
import { SNOWFLAKE_BITS, SONYFLAKE_BITS, type ClockBackPolicy, type GeneratorOptions } from './generators.ts';
import type { ServiceGenerator } from './id-service-server.ts';

/** The generators an ID service design can run. */
export const idGenerators = ['snowflake', 'sonyflake', 'uuidv7', 'segment', 'redis-incr'] as const;
export type IdGeneratorKind = (typeof idGenerators)[number];

export interface IdServiceOptions {
  /**
   * `snowflake` (41-bit ms, 10-bit worker, 12-bit sequence), `sonyflake` (39-bit 10 ms units,
   * 8-bit sequence, 16-bit machine), `uuidv7`, `segment` (ranges of `step` from a Redis counter,
   * served from memory), `redis-incr` (one INCRBY per call).
   */
  generator: IdGeneratorKind;
  /** Instances, each its own process (`id-1` … `id-N`), addressed directly by the load. Default 1. */
  instances?: number;
  /**
   * Snowflake worker id / sonyflake machine id of each instance; default 1, 2, … N. The same id
   * given twice is the classic deployment mistake: those two instances issue the same IDs.
   */
  workerIds?: number[];
  /** The custom epoch of snowflake or sonyflake (ms since the Unix epoch); default each one's own. */
  epochMs?: number;
  /** What a time-based generator does when its clock goes back: `wait` (default), `refuse` (503) or `none`. */
  clockBack?: ClockBackPolicy;
  /** `segment`: numbers per range taken from Redis; default 1000. */
  step?: number;
  /**
   * `segment` and `redis-incr`: how the design's Redis server (service `redis`, reached by each
   * instance over its link `id-N->redis`) keeps the counter: `none` (default: a restart loses it,
   * and ranges are handed out again), `aof-everysec` or `aof-always`.
   */
  persistence?: RedisPersistence;
  /** How IDs are written in the JSON answer: `string` (default) or bare `number`s, which a JSON client rounds above 2^53. */
  jsonIds?: 'string' | 'number';
}

const MAX_INSTANCES = 16;

/** The server's source, under targets/, and the files it imports. */
const serverFiles = ['id-service/id-service-server.ts', 'id-service/generators.ts', 'id-service/counters.ts', 'id-service/redis-counter.ts'];

export const idServiceOptions = z
  .strictObject({
    generator: z.enum(idGenerators),
    instances: z.number().int().min(1).max(MAX_INSTANCES).optional(),
    workerIds: z.array(z.number().int().min(0)).min(1).optional(),
    epochMs: z.number().int().nonnegative().optional(),
    clockBack: z.enum(['wait', 'refuse', 'none']).optional(),
    step: z.number().int().min(1).max(10_000_000).optional(),
    persistence: z.enum(redisPersistenceModes).optional(),
    jsonIds: z.enum(['string', 'number']).optional(),
  })
  .check((ctx) => {
    const o = ctx.value;
    const issue = (path: string, message: string) => ctx.issues.push({ code: 'custom', input: o, path: [path], message });
    const timeBased = o.generator === 'snowflake' || o.generator === 'sonyflake' || o.generator === 'uuidv7';
    const instances = o.instances ?? 1;
    if (o.workerIds !== undefined) {
      if (o.generator !== 'snowflake' && o.generator !== 'sonyflake') issue('workerIds', `workerIds belong to snowflake and sonyflake, not ${o.generator}`);
      else {
        const max = 2 ** (o.generator === 'snowflake' ? SNOWFLAKE_BITS.worker : SONYFLAKE_BITS.machine) - 1;
        if (o.workerIds.length !== instances) issue('workerIds', `give one worker id per instance: ${instances} instance(s), ${o.workerIds.length} id(s)`);
        if (o.workerIds.some((w) => w > max)) issue('workerIds', `a ${o.generator} worker id is at most ${max}`);
      }
    }
    if (o.workerIds === undefined && o.generator === 'snowflake' && instances > 2 ** SNOWFLAKE_BITS.worker - 1) issue('instances', 'too many instances for distinct worker ids');
    if (!timeBased && (o.clockBack !== undefined || o.epochMs !== undefined)) issue(o.clockBack !== undefined ? 'clockBack' : 'epochMs', `${o.generator} IDs carry no time: clockBack and epochMs belong to snowflake, sonyflake and uuidv7`);
    if (o.generator === 'uuidv7' && o.epochMs !== undefined) issue('epochMs', 'UUIDv7 counts from the Unix epoch: remove epochMs');
    if (o.persistence !== undefined && timeBased) issue('persistence', `persistence is the Redis counter's, and ${o.generator} uses none: remove it`);
    if (o.step !== undefined && o.generator !== 'segment') issue('step', `step belongs to segment, not ${o.generator}`);
  }) satisfies z.ZodType<IdServiceOptions>;

/** Instance names of a design: `id-1` … `id-N`. */
export function idInstanceNames(instances = 1): string[] {
  return Array.from({ length: instances }, (_, k) => `id-${k + 1}`);
}

/** The generator options instance `k` (0-based) runs with. */
export function instanceGenerator(o: IdServiceOptions, k: number): ServiceGenerator {
  const workerId = o.workerIds?.[k] ?? k + 1;
  const time = { ...(o.epochMs !== undefined ? { epochMs: o.epochMs } : {}), clockBack: o.clockBack ?? 'wait' };
  switch (o.generator) {
    case 'snowflake':
      return { kind: 'snowflake', workerId, ...time } satisfies GeneratorOptions;
    case 'sonyflake':
      return { kind: 'sonyflake', machineId: workerId, ...time } satisfies GeneratorOptions;
    case 'uuidv7':
      return { kind: 'uuidv7', clockBack: o.clockBack ?? 'wait' } satisfies GeneratorOptions;
    case 'segment':
      return { kind: 'segment', step: o.step ?? 1000 };
    case 'redis-incr':
      return { kind: 'redis-incr' };
  }
}

/** One ID service instance as a service spec. */
export function idInstanceSpec(name: string, generator: ServiceGenerator, o: Pick<IdServiceOptions, 'jsonIds'>, redisLink?: string): ServiceSpec {
  return {
    name,
    target: 'id-service',
    ports: ['http'],
    protocols: { http: 'http' },
    ...nodeService(serverFiles, (ctx) => ({
      HOST: ctx.host,
      PORT: String(ctx.ports.http),
      NAME: name,
      GENERATOR: JSON.stringify(generator),
      JSON_IDS: o.jsonIds ?? 'string',
      ...(redisLink ? { REDIS_HOST: ctx.links[redisLink]!.host, REDIS_PORT: String(ctx.links[redisLink]!.port) } : {}),
    })),
    ready: Wait.forHttp('/health'),
    // Its Date.now() goes through libfaketime, so a `clock` fault moves what the generator reads.
    fakeClock: true,
    program: nodeProgram,
  };
}

export const idServiceTarget: TargetDefinition<IdServiceOptions> = {
  name: 'id-service',
  description: 'ID generator services (snowflake, sonyflake, UUIDv7, Redis segment or INCR), N instances addressed directly',
  options: idServiceOptions,
  topology: (o): Topology => {
    const names = idInstanceNames(o.instances);
    const entries = [{ protocol: 'http', endpoints: names.map((service) => ({ service, port: 'http' })) }];
    if (o.generator !== 'segment' && o.generator !== 'redis-incr') return { services: names.map((n, k) => idInstanceSpec(n, instanceGenerator(o, k), o)), entries };
    // The counter's Redis first, then the instances, each over its own link to it.
    return {
      services: [redisSpec('redis', { persistence: o.persistence ?? 'none' }), ...names.map((n, k) => idInstanceSpec(n, instanceGenerator(o, k), o, `${n}->redis`))],
      links: names.map((n) => ({ name: `${n}->redis`, from: n, to: 'redis' })),
      entries,
    };
  },
};

/** A design of ID service instances, e.g. `idService({ generator: 'snowflake', instances: 3 })`. */
export function idService(options: IdServiceOptions) {
  return { target: 'id-service', options } as const;
}
