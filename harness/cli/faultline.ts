#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { ExitCode, FaultlineError, formatError } from '../errors.ts';
import { doctorCommand } from './doctor-command.ts';
import { listCommand } from './list-command.ts';
import { runCommand } from './run-command.ts';

const usage = `faultline — load and chaos benchmarks of real designs

usage:
  faultline run <scenario name | path> [options]   run a scenario (npm run scenario -- <name>)
  faultline list                                   the scenarios in scenarios/
  faultline doctor                                 Node and the system programs: found or missing

run options:
  --design <name>       run only this design (repeat, or a comma-separated list)
  --duration <dur>      measured window, e.g. 10s (overrides the scenario)
  --warmup <dur>        warm-up before the window, e.g. 2s (overrides the scenario)
  --out <dir>           output folder (default results/<scenario>/<timestamp>/)
  --runtime <kind>      local | docker | auto (default auto)
  --time-scale <f>      multiply warm-up, window and fault times by f (0.25: a quick run)

exit codes:
  0   every SLA line held            1   an SLA line failed
  2   invalid scenario or set-up     3   a target failed to start
  4   a fault failed to apply        130 interrupted (SIGINT, SIGTERM)
`;

async function main(argv: string[]): Promise<number> {
  const { values, positionals } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: {
      design: { type: 'string', multiple: true },
      duration: { type: 'string' },
      warmup: { type: 'string' },
      out: { type: 'string' },
      runtime: { type: 'string' },
      'time-scale': { type: 'string' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(usage);
    return command === undefined && !values.help ? ExitCode.InvalidInput : ExitCode.Pass;
  }
  switch (command) {
    case 'run':
      if (rest.length !== 1) throw new FaultlineError('invalid-argument', 'faultline run takes one scenario name or path', { hint: "see 'faultline list' for names" });
      return runCommand(rest[0]!, values);
    case 'list':
      return listCommand();
    case 'doctor':
      return doctorCommand();
  }
  throw new FaultlineError('invalid-argument', `unknown command '${command}'`, { hint: 'commands: run, list, doctor (faultline --help)' });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const e = err instanceof Error && 'code' in err && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ? new FaultlineError('invalid-argument', err.message, { hint: 'faultline --help lists the options' })
    : err;
  process.stderr.write(`${formatError(e)}\n`);
  process.exitCode = e instanceof FaultlineError ? e.exitCode : ExitCode.InvalidInput;
}
