import { z } from 'zod';
import { MAX_DURATION, MAX_DURATION_MS, parseDuration, type Duration } from '../base/duration.ts';
import { durationSchema } from '../base/schema-helpers.ts';

/** A signed duration: how far a clock is set off true time, e.g. `-2s` (back) or `+1500ms` (ahead). */
export type ClockOffset = `${'+' | '-'}${number}${'ms' | 's' | 'm' | 'h'}` | (string & {});

/** Parses a signed duration (`-2s`, `+1500ms`, `-1m30s`) to ms; the sign is required. Undefined when the text is not one. */
export function parseClockOffset(text: string): number | undefined {
  const m = /^\s*([+-])(\d.*)$/.exec(text);
  const ms = m ? parseDuration(m[2]!) : undefined;
  if (ms === undefined) return undefined;
  return m![1] === '-' ? -ms : ms;
}

/** What every fault has: a name, when it starts, how long it lasts, and which designs it touches. */
interface FaultTiming {
  /** Unique within the scenario; SLA lines name it (`{ during: 'slow-backend', check: … }`). */
  name: string;
  /** Start, from the beginning of the measured window, e.g. `10s`. */
  at: Duration;
  /** How long it lasts; absent = until the end of the window. */
  for?: Duration;
  /** Only these designs (default: every design). */
  designs?: string[];
}

/** A network fault on a link: a Toxiproxy toxic (or the proxy disabled for `down`). */
interface LinkFaultBase extends FaultTiming {
  /** The link, e.g. `client->service`, `lb->backend-1`. */
  link: string;
  /** Which way the toxic acts: `downstream` (server → client, Toxiproxy's default), `upstream`, or `both`. */
  direction?: 'upstream' | 'downstream' | 'both';
  /** Share of connections affected, 0..1 (Toxiproxy draws it once per connection, not per request). Default 1. */
  toxicity?: number;
}

/** Toxiproxy's own attributes for each toxic; times in ms, sizes in bytes, rates in KB/s. */
export interface LinkFaultKinds {
  /** Delay each chunk of data by `latency` ms ± `jitter` ms. */
  latency: { latency: number; jitter?: number };
  /** Limit the link to `rate` KB/s. */
  bandwidth: { rate: number };
  /** Stop all data; close the connection after `timeout` ms (0: never, until the fault ends). */
  timeout: { timeout: number };
  /** Reset connections (TCP RST) after `timeout` ms. */
  reset_peer: { timeout?: number };
  /** Delay closing the connection by `delay` ms. */
  slow_close: { delay: number };
  /** Slice data into packets of `average_size` ± `size_variation` bytes, `delay` µs apart. */
  slicer: { average_size: number; size_variation?: number; delay?: number };
  /** Close the connection after `bytes` bytes. */
  limit_data: { bytes: number };
  /** Take the link down: open connections are cut, new ones refused (a partition). */
  down: true;
}

/** Process faults through the runtime. */
export interface ServiceFaultKinds {
  /** Send this signal; with `for`, the service is started again when the window ends. */
  kill: NodeJS.Signals;
  /** Freeze the service (SIGSTOP / docker pause) for the window, then resume it. */
  pause: true;
  /** Stop and start the service again on the same port (instant: no `for`). */
  restart: true;
  /**
   * Set the service's wall clock (`Date.now()`, gettimeofday, CLOCK_REALTIME) off by this
   * signed offset, e.g. `'-2s'` (a step back, as an NTP correction makes) or `'+1500ms'`;
   * monotonic clocks are not moved. With `for`, the clock jumps back to true time when the
   * window ends; without, it stays off, also across restarts of the service. The change is in
   * effect when the fault counts as applied (libfaketime reads its offset file at most once a
   * second, so applying takes up to ~1 s). Only services whose target runs them with a fake
   * clock (`fakeClock`); needs Debian's `faketime`.
   */
  clock: ClockOffset;
}

/** Faults of the load's own clients, carried out by the workload's driver. */
export interface ClientFaultKinds {
  /**
   * The client dies on the spot, like a crashed process: its connection is cut without a goodbye
   * and whatever it held in memory is gone. With `for`, a new client takes its place when the
   * window ends.
   */
  crash: true;
  /**
   * The client stops where it is, like a process in a long GC pause (SIGSTOP of its process):
   * its connections stay open, its timers wait, nothing it holds is released. With `for`, it
   * runs on from there when the window ends (SIGCONT); without, at the end of the measured
   * window. Only workloads whose clients are processes of their own (`lock`).
   */
  freeze: true;
}

type OneOf<K> = { [P in keyof K]: { [Q in P]: K[P] } & { [Q in Exclude<keyof K, P>]?: never } }[keyof K];

export type LinkFault = LinkFaultBase & OneOf<LinkFaultKinds>;
export type ServiceFault = FaultTiming & { /** The service, e.g. `service`, `backend-2`. */ service: string } & OneOf<ServiceFaultKinds>;
export type ClientFault = FaultTiming & { /** One of the workload's clients, e.g. `consumer-1`. */ client: string } & OneOf<ClientFaultKinds>;

/** A fault on the timeline: exactly one kind key (`latency`, `down`, `kill`, `pause`, …). */
export type Fault = LinkFault | ServiceFault | ClientFault;

export const linkFaultKinds = ['latency', 'bandwidth', 'timeout', 'reset_peer', 'slow_close', 'slicer', 'limit_data', 'down'] as const satisfies readonly (keyof LinkFaultKinds)[];
export const serviceFaultKinds = ['kill', 'pause', 'restart', 'clock'] as const satisfies readonly (keyof ServiceFaultKinds)[];
export const clientFaultKinds = ['crash', 'freeze'] as const satisfies readonly (keyof ClientFaultKinds)[];
export type FaultKind = (typeof linkFaultKinds)[number] | (typeof serviceFaultKinds)[number] | (typeof clientFaultKinds)[number];

const ms = z.number().min(0).max(3_600_000);
const clockOffsetSchema = z
  .string()
  .refine((s) => parseClockOffset(s) !== undefined, { message: "expected a signed duration such as '-2s', '+1500ms' or '-1m30s' (the sign says which way the clock goes)" })
  // A malformed offset has its message above; these speak only of those that parse.
  .refine((s) => parseClockOffset(s) !== 0, { error: (issue) => `a clock offset of '${String(issue.input)}' moves nothing; give one such as '-2s' (offsets are whole milliseconds)` })
  .refine((s) => Math.abs(parseClockOffset(s) ?? 0) <= MAX_DURATION_MS, { error: (issue) => `'${String(issue.input)}' is more than ${MAX_DURATION}, the largest clock offset faultline accepts` });
const signals = ['SIGKILL', 'SIGTERM', 'SIGINT', 'SIGQUIT', 'SIGHUP', 'SIGUSR1', 'SIGUSR2', 'SIGABRT'] as const;

const kindSchemas = {
  latency: z.strictObject({ latency: ms, jitter: ms.optional() }),
  bandwidth: z.strictObject({ rate: z.number().int().min(0) }),
  timeout: z.strictObject({ timeout: ms }),
  reset_peer: z.strictObject({ timeout: ms.optional() }),
  slow_close: z.strictObject({ delay: ms }),
  slicer: z.strictObject({ average_size: z.number().int().positive(), size_variation: z.number().int().min(0).optional(), delay: z.number().int().min(0).optional() }),
  limit_data: z.strictObject({ bytes: z.number().int().positive() }),
  down: z.literal(true),
  kill: z.enum(signals),
  pause: z.literal(true),
  restart: z.literal(true),
  clock: clockOffsetSchema,
  crash: z.literal(true),
  freeze: z.literal(true),
} satisfies Record<FaultKind, z.ZodType>;

const allKinds = [...linkFaultKinds, ...serviceFaultKinds, ...clientFaultKinds] as const;

/** The schema of one fault: the timing fields, the target field its kind needs, exactly one kind. */
export const faultSchema = z
  .strictObject({
    name: z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]*$/, 'use letters, digits, ., _ and -'),
    at: durationSchema,
    for: durationSchema.optional(),
    designs: z.array(z.string()).min(1).optional(),
    link: z.string().optional(),
    service: z.string().optional(),
    client: z.string().optional(),
    direction: z.enum(['upstream', 'downstream', 'both']).optional(),
    toxicity: z.number().min(0).max(1).optional(),
    ...Object.fromEntries(allKinds.map((k) => [k, kindSchemas[k].optional()])),
  })
  .check((ctx) => {
    const f = ctx.value as Record<string, unknown>;
    const kinds = allKinds.filter((k) => f[k] !== undefined);
    const issue = (path: string, message: string) => ctx.issues.push({ code: 'custom', input: f, path: [path], message });
    if (kinds.length !== 1) {
      issue(kinds[1] ?? 'name', kinds.length === 0
        ? `give one fault kind: ${allKinds.join(', ')}`
        : `give one fault kind per fault, not ${kinds.join(' and ')}; split it into two faults`);
      return;
    }
    const kind = kinds[0]!;
    const acts: 'link' | 'service' | 'client' = (linkFaultKinds as readonly string[]).includes(kind) ? 'link' : (serviceFaultKinds as readonly string[]).includes(kind) ? 'service' : 'client';
    const example = { link: "'client->service'", service: "'service'", client: "'consumer-1'" };
    if (f[acts] === undefined) issue(acts, `a ${kind} fault acts on a ${acts}: give ${acts}, e.g. ${example[acts]}`);
    for (const other of (['link', 'service', 'client'] as const).filter((x) => x !== acts)) {
      if (f[other] !== undefined) issue(other, `a ${kind} fault acts on a ${acts}, not a ${other}`);
    }
    if (acts !== 'link' && (f.direction !== undefined || f.toxicity !== undefined)) issue(f.direction !== undefined ? 'direction' : 'toxicity', `direction and toxicity belong to link faults, not ${kind}`);
    if (kind === 'down' && (f.direction !== undefined || f.toxicity !== undefined)) issue('direction', 'a down link has no direction or toxicity');
    if (kind === 'restart' && f.for !== undefined) issue('for', 'a restart is instant: remove for (or use kill with for to keep it down a while)');
  });

/** The single kind key of a validated fault. */
export function faultKind(f: Fault): FaultKind {
  return allKinds.find((k) => (f as unknown as Record<string, unknown>)[k] !== undefined)!;
}
