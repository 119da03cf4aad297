import { ownFile } from '../../../base/own-file.ts';
import { z } from 'zod';
import { nodeProgram, type TargetDefinition } from '../../../../targets/target.ts';
import { Wait } from '../../../runtime/wait.ts';
import type { ServiceSpec, Topology } from '../../../runtime/service-spec.ts';
import { tqHelloProbe } from '../tq-connection.ts';

/** The protocol the test queue speaks: newline-delimited JSON over TCP (see test-queue-server.ts). */
export const TQ_PROTOCOL = 'tq';

/** The partition server's source, run by the host's Node (local runtime only). */
const serverFile = ownFile('./test-queue-server.ts', import.meta.url);

export interface TestQueueOptions {
  /** Partitions, each its own process `queue-1` … `queue-N`. Default 2. */
  partitions?: number;
  /** Each partition acks but discards every K-th put it receives: a known, exact loss. Default: none. */
  dropEvery?: number;
  /** Each partition enqueues every K-th put it receives twice: a known, exact duplication. Default: none. */
  duplicateEvery?: number;
}

const optionsSchema = z.strictObject({
  partitions: z.number().int().min(1).max(5).optional(),
  dropEvery: z.number().int().min(1).max(1_000_000).optional(),
  duplicateEvery: z.number().int().min(1).max(1_000_000).optional(),
});

/** One partition as a service: port `tq`, ready when a hello round trip answers. */
function partitionSpec(name: string, o: TestQueueOptions): ServiceSpec {
  return {
    name,
    target: 'test-queue',
    ports: [TQ_PROTOCOL],
    protocols: { [TQ_PROTOCOL]: TQ_PROTOCOL },
    local: (ctx) => {
      const adv = ctx.advertised[TQ_PROTOCOL]!;
      return {
        command: process.execPath,
        args: [serverFile],
        env: {
          HOST: ctx.host,
          PORT: String(ctx.ports[TQ_PROTOCOL]),
          NAME: name,
          // Where clients should reach this partition: the Toxiproxy proxy when a fault may touch the client link.
          ADVERTISED: `${adv.host}:${adv.port}`,
          ...(o.dropEvery !== undefined ? { DROP_EVERY: String(o.dropEvery) } : {}),
          ...(o.duplicateEvery !== undefined ? { DUPLICATE_EVERY: String(o.duplicateEvery) } : {}),
        },
      };
    },
    ready: Wait.forProbe('tq hello', tqHelloProbe, { port: TQ_PROTOCOL }),
    program: nodeProgram,
  };
}

/** The names of a test queue's partitions, in order. */
export function partitionNames(partitions: number): string[] {
  return Array.from({ length: partitions }, (_, i) => `queue-${i + 1}`);
}

/**
 * The test kit's queue (enabled with FAULTLINE_TEST_KIT=1): N independent partitions, one entry
 * of protocol `tq` with an endpoint per partition. Local processes only.
 */
export const testQueueTarget: TargetDefinition<TestQueueOptions> = {
  name: 'test-queue',
  description: 'test kit: a partitioned in-memory queue over newline-delimited JSON, with exact known drops and duplicates',
  options: optionsSchema,
  topology: (o): Topology => {
    const names = partitionNames(o.partitions ?? 2);
    return {
      services: names.map((n) => partitionSpec(n, o)),
      entries: [{ protocol: TQ_PROTOCOL, endpoints: names.map((service) => ({ service, port: TQ_PROTOCOL })) }],
    };
  },
};

/** A design of the test queue, e.g. `testQueue({ partitions: 2, dropEvery: 25 })`. */
export function testQueue(options: TestQueueOptions = {}) {
  return { target: 'test-queue', options } as const;
}
