import { z } from 'zod';
import type { Duration } from '../../base/duration.ts';
import { durationSchema, openLoadFields } from '../../base/schema-helpers.ts';

/** What every messaging workload says, open or closed. */
interface MessagingWorkloadCommon {
  kind: 'messaging';
  /** Producers, each with its own connection; message k goes to producer k mod `producers`. Default 1. */
  producers?: number;
  /** Consumers, each with its own connection, sharing the design's queue or group. Default 1. Crash faults name them `consumer-1`, `consumer-2`, … */
  consumers?: number;
  /** Bytes per message, the 21-byte header included. Default 1024. */
  messageSize?: number;
  /** Message k carries key k mod `keys` (a partitioned broker routes by it; order is checked within it). Default: no keys. */
  keys?: number;
  /**
   * How long a consumer works on each message before it acknowledges it. Default `0ms`. A
   * message counts as consumed when its processing begins (that is when its effect happens).
   */
  processingTime?: Duration;
  /** Messages one consumer processes at once. Default 1. */
  concurrency?: number;
  /** How long consumers may take to catch up after sending stopped. Default `10s`. */
  drainTimeout?: Duration;
  /** A publish not acknowledged within this fails as a `timeout`. Default `10s`. */
  publishTimeout?: Duration;
}

/** Open model: messages are due at a constant or ramping rate, whatever the broker does; publish latency counts from the due time. */
export interface OpenMessagingWorkload extends MessagingWorkloadCommon {
  model: 'open';
  /** Messages per second across all producers at the start (and during warm-up). */
  rate: number;
  /** Ramps after warm-up, each linear from the previous rate to `target` msgs/s over `duration`. */
  stages?: { duration: Duration; target: number }[];
  /** Publishes in flight at most; a message beyond it is dropped and counted. Default 10000. */
  maxInFlight?: number;
}

/** Closed model (as fast as the broker acknowledges): each producer keeps `inFlight` publishes outstanding. */
export interface ClosedMessagingWorkload extends MessagingWorkloadCommon {
  model: 'closed';
  /** Publishes outstanding per producer. Default 1. */
  inFlight?: number;
}

export type MessagingWorkload = OpenMessagingWorkload | ClosedMessagingWorkload;

/** Builds a messaging workload, e.g. `messaging({ model: 'open', rate: 1000, producers: 2, consumers: 2 })`. */
export function messaging<const W extends Omit<OpenMessagingWorkload, 'kind'> | Omit<ClosedMessagingWorkload, 'kind'>>(w: W): W & { kind: 'messaging' } {
  return { kind: 'messaging', ...w };
}

const common = {
  kind: z.literal('messaging'),
  producers: z.number().int().positive().max(64).optional(),
  consumers: z.number().int().positive().max(64).optional(),
  messageSize: z.number().int().min(32, 'at least 32 bytes (the header takes 21)').max(16 * 1024 * 1024).optional(),
  keys: z.number().int().positive().max(1_000_000).optional(),
  processingTime: durationSchema.optional(),
  concurrency: z.number().int().positive().max(10_000).optional(),
  drainTimeout: durationSchema.optional(),
  publishTimeout: durationSchema.optional(),
};

export const messagingWorkloadSchema = z.discriminatedUnion('model', [
  z.strictObject({
    ...common,
    model: z.literal('open'),
    ...openLoadFields,
  }),
  z.strictObject({ ...common, model: z.literal('closed'), inFlight: z.number().int().positive().max(10_000).optional() }),
]);

/** Bytes of the header every message starts with. */
export const HEADER_BYTES = 21;
const MAGIC = 0xfa;
const NO_KEY = 0xffffffff;

/** What a message says about itself. */
export interface MessageHeader {
  /** The producer's number (1-based): producer id `p<n>`. */
  producer: number;
  /** Its sequence number within the producer, from 1. */
  seq: number;
  /** When it was due to be sent, on the sending process's performance.now() clock (ms). */
  dueMs: number;
  key: number | undefined;
}

/** A message of `size` bytes: the header, then zeros. */
export function encodeMessage(h: MessageHeader, size: number): Buffer {
  return writeMessageHeader(Buffer.alloc(size), h);
}

/**
 * Writes `h` over the header bytes of `b`: on a buffer of zeros, what `encodeMessage` makes. A
 * client that copies each message as it takes it (librdkafka) can be handed one buffer again
 * and again.
 */
export function writeMessageHeader(b: Buffer, h: MessageHeader): Buffer {
  b.writeUInt8(MAGIC, 0);
  b.writeUInt32BE(h.producer, 1);
  b.writeUInt32BE(h.seq, 5);
  b.writeDoubleBE(h.dueMs, 9);
  b.writeUInt32BE(h.key ?? NO_KEY, 17);
  return b;
}

/** The header of a message this workload sent, or undefined for anything else. */
export function decodeMessage(b: Buffer): MessageHeader | undefined {
  if (b.length < HEADER_BYTES || b.readUInt8(0) !== MAGIC) return undefined;
  const key = b.readUInt32BE(17);
  return { producer: b.readUInt32BE(1), seq: b.readUInt32BE(5), dueMs: b.readDoubleBE(9), key: key === NO_KEY ? undefined : key };
}
