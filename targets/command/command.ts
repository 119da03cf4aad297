import { statSync } from 'node:fs';
import { resolve } from 'node:path';
import { z } from 'zod';
import { parseDuration, type Duration } from '../../harness/base/duration.ts';
import { durationSchema } from '../../harness/base/schema-helpers.ts';
import { Wait, type WaitStrategy } from '../../harness/runtime/wait.ts';
import { entryAt, type ServiceSpec } from '../../harness/runtime/service-spec.ts';
import type { TargetDefinition } from '../target.ts';

/** When a started command counts as ready; `timeout` bounds the wait (default `30s`). */
export type CommandReady = (
  | { /** GET this path answers 200, e.g. `/health`. */ http: string; log?: never; tcp?: never }
  | { /** A line of its output (stdout or stderr) contains this text, e.g. `listening`. */ log: string; http?: never; tcp?: never }
  | { /** Its port accepts a TCP connection. */ tcp: true; http?: never; log?: never }
) & { timeout?: Duration };

export interface CommandOptions {
  /**
   * The command line, run by `/bin/sh -c` in a process group of its own, e.g. `node server.js`
   * or `npm start`. Kill, pause and restart faults act on the whole group; at the end it gets
   * SIGTERM, then SIGKILL after 5 s. A process that leaves the group (setsid) escapes both.
   */
  run: string;
  /**
   * Where it listens: the name of an environment variable faultline sets to a free loopback
   * port (default `PORT`), or a fixed port number, refused at start when something listens there.
   */
  port?: string | number;
  /** When it counts as started. Default `{ tcp: true }`: its port accepts a connection. */
  ready?: CommandReady;
  /** Extra environment variables (on top of faultline's own environment). `HOST` is `127.0.0.1` unless set here. */
  env?: Record<string, string>;
  /**
   * Its working directory. Default: the directory faultline runs in (for `npm run scenario`, the
   * project's root); a relative one is taken from there. `cwd: import.meta.dirname` runs it
   * beside the scenario file.
   */
  cwd?: string;
  /** Service name inside the design; faults name it (`service: 'app'`, `link: 'client->app'`). Default `app`. */
  name?: string;
  /** The protocol the load speaks to it: `http` (default) or `amqp`. */
  protocol?: 'http' | 'amqp';
}

const DEFAULT_READY_TIMEOUT = '30s';
const envName = /^[A-Za-z_][A-Za-z0-9_]*$/;
const noNul = (what: string) => z.string().refine((s) => !s.includes('\0'), `${what} may not contain a NUL character`);
const timeout = durationSchema.optional();
const fixedPort = 'a fixed port is a whole number 1..65535';
const readyForms = "give exactly one of { http: '/health' }, { log: 'listening' } or { tcp: true }, with an optional timeout such as '30s'";

const readySchema = z.union(
  [
    z.strictObject({ http: z.string().regex(/^\/[A-Za-z0-9\-._~%/?=&]*$/, "a path that starts with /, e.g. '/health' (letters, digits and -._~%/?=&)"), timeout }),
    z.strictObject({ log: z.string().min(1), timeout }),
    z.strictObject({ tcp: z.literal(true), timeout }),
  ],
  { error: (issue) => `${readyForms}; got ${JSON.stringify(issue.input)}` },
);

/** The working directory a command runs in: given, or faultline's own; relative to faultline's. */
export function commandCwd(o: Pick<CommandOptions, 'cwd'>): string {
  return resolve(process.cwd(), o.cwd ?? '.');
}

/** A command's options as a schema (also a load balancer's `backend`). */
export const commandOptionsSchema = z
  .strictObject({
    run: noNul('run').check((ctx) => {
      if (ctx.value.trim() === '') ctx.issues.push({ code: 'custom', input: ctx.value, message: "the command is empty; give the command line that starts the service, e.g. 'node server.js'" });
    }),
    port: z
      .union([
        z.string().regex(envName, 'the name of the environment variable that tells it its port, such as PORT (letters, digits and _)'),
        z.number().int(fixedPort).min(1, fixedPort).max(65535, fixedPort),
      ], { error: 'give the name of the environment variable that tells it its port (e.g. PORT), or a fixed port number 1..65535' })
      .optional(),
    ready: readySchema.optional(),
    env: z
      .record(z.string(), noNul('an environment value'))
      .check((ctx) => {
        for (const key of Object.keys(ctx.value)) {
          if (!envName.test(key)) ctx.issues.push({ code: 'custom', input: ctx.value, path: [key], message: `'${key}' is not an environment variable name: use letters, digits and _` });
        }
      })
      .optional(),
    cwd: noNul('cwd').optional(),
    name: z.string().regex(/^[a-z][a-z0-9-]*$/, 'use lower-case letters, digits and -').optional(),
    protocol: z.enum(['http', 'amqp']).optional(),
  })
  .check((ctx) => {
    const o = ctx.value;
    const issue = (path: (string | number)[], message: string) => ctx.issues.push({ code: 'custom', input: o, path, message });
    const port = o.port ?? 'PORT';
    if (typeof port === 'string' && o.env?.[port] !== undefined) issue(['env', port], `faultline sets ${port} to the port it chose (port: '${port}'); leave it out of env`);
    if (o.ready && 'http' in o.ready && (o.protocol ?? 'http') !== 'http') issue(['ready', 'http'], `an http readiness check needs protocol 'http'; the service speaks ${o.protocol}: use { tcp: true } or { log: '...' }`);
    if (o.cwd !== undefined) {
      const dir = commandCwd(o);
      let isDir = false;
      try {
        isDir = statSync(dir).isDirectory();
      } catch {
        // Reported below.
      }
      if (!isDir) issue(['cwd'], `folder '${dir}' does not exist; give an existing folder (a relative one is taken from ${process.cwd()})`);
    }
  });

function escapeRegExp(text: string): string {
  return text.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

function readiness(ready: CommandReady | undefined): WaitStrategy {
  const timeoutMs = parseDuration(ready?.timeout ?? DEFAULT_READY_TIMEOUT)!;
  if (ready?.http !== undefined) return Wait.forHttp(ready.http, { timeoutMs });
  if (ready?.log !== undefined) return Wait.forLog(new RegExp(escapeRegExp(ready.log)), { timeoutMs });
  return Wait.forTcp(undefined, timeoutMs);
}

/**
 * The user's command as a service spec, local runtime only (it needs the user's own toolchain,
 * which no image of ours carries). Its one port is named after its protocol.
 */
export function commandSpec(o: CommandOptions, name = o.name ?? 'app'): ServiceSpec {
  const protocol = o.protocol ?? 'http';
  const port = o.port ?? 'PORT';
  const cwd = commandCwd(o);
  return {
    name,
    target: 'command',
    ports: [protocol],
    protocols: { [protocol]: protocol },
    ...(typeof port === 'number' ? { fixedPorts: { [protocol]: port } } : {}),
    local: (ctx) => ({
      command: '/bin/sh',
      args: ['-c', o.run],
      cwd,
      env: { HOST: ctx.host, ...o.env, ...(typeof port === 'string' ? { [port]: String(ctx.ports[protocol]) } : {}) },
    }),
    ready: readiness(o.ready),
    program: { name: 'command', version: async () => o.run },
  };
}

export const commandTarget: TargetDefinition<CommandOptions> = {
  name: 'command',
  description: "the user's own service, started from a shell command on a port faultline gives it (local runtime only)",
  options: commandOptionsSchema as z.ZodType<CommandOptions>,
  topology: (o) => {
    const spec = commandSpec(o);
    return { services: [spec], entries: [entryAt(spec.ports[0]!, spec.name, spec.ports[0]!)] };
  },
};

/**
 * A design of the user's own service, started by faultline from a command line, e.g.
 * `command({ run: 'node server.js', ready: { http: '/health' } })`: it is told its port in
 * `PORT`, takes the scenario's faults like any target's service (kill, pause, restart, and
 * `client->app` on its link), and nothing of it outlives the run.
 */
export function command(options: CommandOptions) {
  return { target: 'command', options } as const;
}
