#!/usr/bin/env node
import { enableCompileCache } from 'node:module';
import { homedir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ExitCode, FaultlineError, formatError } from '../errors.ts';

// Node keeps the bytecode of every module it compiles, so later starts skip most of the
// compiling (the commands below are imported after this line). Beside the tool cache, not in
// os.tmpdir(): a run leaves nothing there. NODE_COMPILE_CACHE, when set, says where instead.
enableCompileCache(process.env.NODE_COMPILE_CACHE ? undefined : join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'faultline', 'node-compile-cache'));

const usage = `faultline — load and chaos benchmarks of real designs

usage:
  faultline run <scenario name | path> [options]   run a scenario (npm run scenario -- <name>)
  faultline setup                                  install what scenarios run (Debian packages, Toxiproxy, Kafka's
                                                   jars), checking first; as root, or it says what to install
  faultline list                                   the scenarios in scenarios/
  faultline doctor [--clean]                       Node and the system programs: found or missing; what killed runs
                                                   left; --clean stops and removes it (processes, temp dirs, containers,
                                                   networks), never anything of a run still going
  faultline report <result.json | folder> [--out <dir>]
                                                   re-render the reports of a run (of every run in a folder, plus its index.html)
  faultline compare <baseline.json> <current.json> [options]
                                                   every figure side by side; exit 1 on a regression

run options:
  --design <name>       run only this design (repeat, or a comma-separated list)
  --duration <dur>      measured window, e.g. 10s, at most 24h (overrides the scenario)
  --warmup <dur>        warm-up before the window, e.g. 2s, at most 24h (overrides the scenario)
  --out <dir>           output folder (default: a new results/<scenario>/<timestamp>/, with
                        -2, -3, … when runs start in the same second); a folder that already
                        holds a run (result.json, reports, logs) is refused unless --force
  --force               write into an --out folder that holds a run, replacing its files
  --runtime <kind>      local | docker | auto (default: FAULTLINE_RUNTIME, else auto:
                        docker when an engine answers, else local)
  --image <key=image>   the docker runtime's image for a key (repeat), e.g. haproxy=haproxy:2.8;
                        keys: node, haproxy, nginx, redis, rabbitmq, kafka, toxiproxy
                        (also FAULTLINE_IMAGE_<KEY>, or the scenario's images)
  --time-scale <f>      multiply warm-up, window and fault times by f (0.25: a quick run)
  --repeat <n>          run each design n times, interleaved (A B A B …); report the median
                        and a 95% interval of every figure, and whether differences are noise

compare options:
  --out <dir>                   where compare.html and compare.md go (default: next to current.json)
  --max-latency-increase <pct>  a p50/p90/p99/p99.9 rise beyond this is a regression (default 10%)
  --max-throughput-drop <pct>   an ok/s fall beyond this is a regression (default 10%)
  --max-error-increase <pct>    an error-rate rise beyond this many points is a regression (default 0.1%)

exit codes:
  0   every SLA line held            1   an SLA line failed
  2   invalid scenario or set-up     3   a target failed to start
  4   a fault failed to apply        5   the harness itself broke (a bug: please report it)
  130 interrupted (SIGINT, SIGTERM, SIGHUP)
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
      image: { type: 'string', multiple: true },
      repeat: { type: 'string' },
      'max-latency-increase': { type: 'string' },
      'max-throughput-drop': { type: 'string' },
      'max-error-increase': { type: 'string' },
      clean: { type: 'boolean' },
      force: { type: 'boolean' },
      help: { type: 'boolean', short: 'h' },
    },
  });
  const [command, ...rest] = positionals;
  if (values.help || command === undefined || command === 'help') {
    process.stdout.write(usage);
    return command === undefined && !values.help ? ExitCode.InvalidInput : ExitCode.Pass;
  }
  // Each command's module is loaded only when it runs: `list` and `--help` answer without the
  // docker runtime, the drivers' clients or the report renderers (see README, Command line).
  switch (command) {
    case 'run':
      if (rest.length !== 1) throw new FaultlineError('invalid-argument', 'faultline run takes one scenario name or path', { hint: "see 'faultline list' for names" });
      return (await import('./run-command.ts')).runCommand(rest[0]!, values);
    case 'setup':
      return (await import('./setup-command.ts')).setupCommand();
    case 'list':
      return (await import('./list-command.ts')).listCommand();
    case 'doctor':
      return (await import('./doctor-command.ts')).doctorCommand({ clean: values.clean === true });
    case 'report':
      if (rest.length !== 1) throw new FaultlineError('invalid-argument', 'faultline report takes one result.json or folder', { hint: 'faultline report results/<scenario>/<time>/result.json' });
      return (await import('./report-command.ts')).reportCommand(rest[0]!, values);
    case 'compare':
      if (rest.length !== 2) throw new FaultlineError('invalid-argument', 'faultline compare takes two result.json files: the baseline, then the current run', { hint: 'faultline compare baseline/result.json current/result.json' });
      return (await import('./compare-command.ts')).compareCommand(rest[0]!, rest[1]!, values);
  }
  throw new FaultlineError('invalid-argument', `unknown command '${command}'`, { hint: 'commands: run, setup, list, doctor, report, compare (faultline --help)' });
}

try {
  process.exitCode = await main(process.argv.slice(2));
} catch (err) {
  const e = err instanceof Error && 'code' in err && (err as { code?: string }).code?.startsWith('ERR_PARSE_ARGS')
    ? new FaultlineError('invalid-argument', err.message, { hint: 'faultline --help lists the options' })
    : err;
  process.stderr.write(`${formatError(e)}\n`);
  process.exitCode = e instanceof FaultlineError ? e.exitCode : ExitCode.HarnessError;
}

// Everything faultline starts is stopped by now; a client library that still holds a timer or
// a socket must not keep CI waiting. Say what lingered (so it can be fixed) and exit. The timer
// is unref'd: a process that ends by itself never sees it.
setTimeout(() => {
  process.stderr.write(`faultline: finished, but something still held the process 5 s later (active: ${process.getActiveResourcesInfo().join(', ')}); exiting\n`);
  process.exit();
}, 5000).unref();

