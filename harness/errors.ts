/**
 * Exit codes of the `faultline` CLI, so CI can tell "the system failed its SLA" from
 * "the harness broke".
 */
export const ExitCode = {
  /** Every SLA line of every design held. */
  Pass: 0,
  /** At least one SLA line failed. */
  SlaFailed: 1,
  /** Invalid scenario, bad arguments, or set-up missing (a program, a Node version). */
  InvalidInput: 2,
  /** A target (service) failed to start or to become ready. */
  TargetFailed: 3,
  /** A fault failed to apply. */
  FaultFailed: 4,
  /** The harness itself broke (a bug in faultline, not in the scenario or the system under test); the result so far is still written. */
  HarnessError: 5,
  /** Interrupted by SIGINT or SIGTERM. */
  Interrupted: 130,
} as const;

export type ExitCodeValue = (typeof ExitCode)[keyof typeof ExitCode];

/** Why something failed; each code maps to one exit code. */
export type ErrorCode = 'invalid-scenario' | 'invalid-argument' | 'setup' | 'target-start' | 'fault' | 'interrupted' | 'internal';

const exitCodes: Record<ErrorCode, ExitCodeValue> = {
  'invalid-scenario': ExitCode.InvalidInput,
  'invalid-argument': ExitCode.InvalidInput,
  setup: ExitCode.InvalidInput,
  'target-start': ExitCode.TargetFailed,
  fault: ExitCode.FaultFailed,
  interrupted: ExitCode.Interrupted,
  internal: ExitCode.HarnessError,
};

/**
 * The one error type faultline throws on purpose: what happened (message), what to do next
 * (hint), and optional detail such as the tail of a failed service's log.
 */
export class FaultlineError extends Error {
  readonly code: ErrorCode;
  readonly hint: string | undefined;
  readonly detail: string | undefined;

  constructor(code: ErrorCode, message: string, opts: { hint?: string; detail?: string; cause?: unknown } = {}) {
    super(message, opts.cause === undefined ? undefined : { cause: opts.cause });
    this.name = 'FaultlineError';
    this.code = code;
    this.hint = opts.hint;
    this.detail = opts.detail;
  }

  get exitCode(): ExitCodeValue {
    return exitCodes[this.code];
  }
}

/** Formats any error for a person at a terminal: message, detail, hint. */
export function formatError(err: unknown): string {
  if (err instanceof FaultlineError) {
    const parts = [`error: ${err.message}`];
    if (err.detail) parts.push(err.detail.replace(/\s+$/, ''));
    if (err.hint) parts.push(`hint: ${err.hint}`);
    return parts.join('\n');
  }
  if (err instanceof Error) return `internal error: ${err.stack ?? err.message}`;
  return `internal error: ${String(err)}`;
}
