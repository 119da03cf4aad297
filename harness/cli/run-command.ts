import { randomBytes } from 'node:crypto';
import { join, relative, resolve } from 'node:path';
import type { liveLine as LiveLine } from '../../reports/terminal.ts';
import { ExitCode, FaultlineError } from '../errors.ts';
import type { RunResult, Wording } from '../result/result.ts';
import type { RunHooks } from '../run/run-scenario.ts';
import { MAX_DURATION, MAX_DURATION_MS, parseDuration } from '../base/duration.ts';
import { loadScenario } from '../scenario/load-scenario.ts';
import { checkTimeline } from '../scenario/validate-scenario.ts';
import { scaleTimeline } from '../scenario/time-scale.ts';
import { engineAnswers } from '../tooling/docker/engine.ts';
import { chooseImages, parseImageFlags } from '../runtime/images.ts';
import { newRunFolder, prepareOutFolder } from './output-folder.ts';
import { checkRunId, guardRun } from './run-guard.ts';
import { onStopSignals } from './stop-signals.ts';

export interface RunFlags {
  design?: string[];
  duration?: string;
  warmup?: string;
  out?: string;
  runtime?: string;
  'time-scale'?: string;
  image?: string[];
  repeat?: string;
  force?: boolean;
}

function durationFlag(flag: string, text: string | undefined, fallback: number, min: number): number {
  if (text === undefined) return fallback;
  const ms = parseDuration(text);
  if (ms === undefined || ms < min || ms > MAX_DURATION_MS) {
    throw new FaultlineError('invalid-argument', `--${flag} '${text}' is not a duration of ${min > 0 ? `at least ${min} ms and ` : ''}at most ${MAX_DURATION}`, { hint: "write it like '500ms', '10s' or '1m'" });
  }
  return ms;
}

/** The window and warm-up as run (after flags and --time-scale) are each at most `MAX_DURATION`. */
function checkRunLength(field: string, ms: number, factor: number): void {
  if (ms <= MAX_DURATION_MS) return;
  throw new FaultlineError('invalid-argument', `${field}: ${+(ms / 3_600_000).toFixed(2)}h${factor !== 1 ? ` (after --time-scale ${factor})` : ''} is longer than ${MAX_DURATION}, the longest a run's ${field} may be`, {
    hint: factor !== 1 ? 'give a smaller --time-scale' : `give a --${field} of at most ${MAX_DURATION}`,
  });
}

/** `--runtime` (else `FAULTLINE_RUNTIME`): local, docker, or auto (docker when an engine answers, else local), with the reason. */
export function chooseRuntime(flag: string | undefined, answers: () => boolean = engineAnswers): { runtime: 'local' | 'docker'; reason: string } {
  switch (flag ?? 'auto') {
    case 'local':
      return { runtime: 'local', reason: 'asked for with --runtime local' };
    case 'auto':
      return answers()
        ? { runtime: 'docker', reason: 'auto: a Docker engine answers' }
        : { runtime: 'local', reason: 'auto: no Docker engine answers, so local processes' };
    case 'docker':
      if (!answers()) {
        throw new FaultlineError('setup', '--runtime docker: no Docker engine answers', { hint: "start one (node harness/tooling/docker/engine.ts start starts Debian's dockerd), or use --runtime local" });
      }
      return { runtime: 'docker', reason: 'asked for with --runtime docker' };
  }
  throw new FaultlineError('invalid-argument', `--runtime '${flag}' is not a runtime`, { hint: 'use local, docker or auto' });
}

function chooseDesigns(asked: string[] | undefined, all: string[]): string[] {
  if (!asked) return all;
  const names = asked.flatMap((d) => d.split(',')).map((d) => d.trim()).filter(Boolean);
  const unknown = names.filter((n) => !all.includes(n));
  if (unknown.length > 0) {
    throw new FaultlineError('invalid-argument', `unknown design${unknown.length > 1 ? 's' : ''} ${unknown.map((u) => `'${u}'`).join(', ')}`, { hint: `this scenario's designs: ${all.join(', ')}` });
  }
  return all.filter((d) => names.includes(d));
}

function liveHooks(wording: Wording, liveLine: typeof LiveLine): RunHooks {
  const tty = process.stdout.isTTY === true;
  const out = (s: string) => process.stdout.write(s);
  return {
    onDesignStart: (design, i, n) => out(`[${i + 1}/${n}] ${design}: starting services\n`),
    onServicesReady: (design, services) => out(`[${design}] ready: ${services.map((s) => `${s.name} (${s.program} ${s.version}) ${Object.values(s.endpoints).join(' ')}`).join(', ')}; warming up\n`),
    onWarmupEnd: (design) => out(`[${design}] measuring\n`),
    onSecond: (design, row, secs) => out(tty ? `\r\x1b[2K${liveLine(design, row, secs, wording)}` : `${liveLine(design, row, secs, wording)}\n`),
    onDesignEnd: () => {
      if (tty) out('\n');
    },
  };
}

/** `--repeat N`: trials of each design, 1 … 20. */
function repeatFlag(text: string | undefined): number {
  if (text === undefined) return 1;
  const n = Number(text);
  if (!Number.isInteger(n) || n < 1 || n > 20) {
    throw new FaultlineError('invalid-argument', `--repeat '${text}' is not a number of trials from 1 to 20`, { hint: 'e.g. --repeat 3 runs each design three times, interleaved, and reports the median and a 95% interval' });
  }
  return n;
}

/** `faultline run`: load and validate, run every design, write result.json, print the verdict. */
export async function runCommand(arg: string, flags: RunFlags): Promise<number> {
  const factor = flags['time-scale'] === undefined ? 1 : Number(flags['time-scale']);
  const repeat = repeatFlag(flags.repeat);
  const loaded = scaleTimeline(await loadScenario(arg), factor);
  const { runtime, reason } = chooseRuntime(flags.runtime ?? process.env.FAULTLINE_RUNTIME);
  const images = chooseImages(loaded.scenario.images, parseImageFlags(flags.image));
  const designs = chooseDesigns(flags.design, Object.keys(loaded.scenario.designs));
  const durationMs = durationFlag('duration', flags.duration, loaded.durationMs, 1000);
  const warmupMs = durationFlag('warmup', flags.warmup, loaded.warmupMs, 0);
  checkRunLength('duration', durationMs, flags.duration ? 1 : factor);
  checkRunLength('warmup', warmupMs, flags.warmup ? 1 : factor);
  const late = checkTimeline(loaded.faults, durationMs, flags.duration ? '--duration' : 'duration');
  if (late.length > 0) {
    throw new FaultlineError('invalid-argument', `the fault timeline does not fit the ${durationMs} ms window`, {
      detail: late.map((p) => `  ${p.path}: ${p.message}`).join('\n'),
      hint: 'give a longer --duration',
    });
  }
  const runId = process.env.FAULTLINE_RUN_ID ?? randomBytes(4).toString('hex');
  await checkRunId(runId);
  // Processes a driver starts itself (lock clients) carry the run's id like its services, so
  // the watchdog and doctor --clean know them.
  process.env.FAULTLINE_RUN_ID = runId;
  let outDir: string;
  if (flags.out === undefined) {
    outDir = await newRunFolder(resolve('results', loaded.scenario.name), new Date());
  } else {
    outDir = resolve(flags.out);
    await prepareOutFolder(outDir, flags.force === true);
  }
  const file = join(outDir, 'result.json');
  // Loaded once the scenario is valid: a scenario with a problem is reported without the engine
  // and the report renderers.
  const [{ RunInterrupted, runScenario }, { writeResultFile }, { liveLine, summary }, { reportsSummary, writeReports }] = await Promise.all([
    import('../run/run-scenario.ts'),
    import('../result/write-result.ts'),
    import('../../reports/terminal.ts'),
    import('../../reports/report-formats.ts'),
  ]);

  const ac = new AbortController();
  const onSignal = (sig: NodeJS.Signals) => {
    if (ac.signal.aborted) {
      // A second signal: give up on the orderly stop; the exit hook still kills every service.
      process.exit(ExitCode.Interrupted);
    }
    process.stderr.write(`\n${sig}: stopping every service and writing a partial result\n`);
    ac.abort(sig);
  };
  const guard = guardRun(runId, runtime);
  const offSignals = onStopSignals(onSignal);
  process.stdout.write(`faultline ${loaded.scenario.name}: ${designs.length} design(s)${repeat > 1 ? ` × ${repeat} trials` : ''}, warm-up ${warmupMs} ms, window ${durationMs} ms, runtime ${runtime} (${reason})\n`);

  let result: RunResult;
  let failure: FaultlineError | undefined;
  try {
    result = await runScenario(loaded, { designs, warmupMs, durationMs, outDir, resultFile: file, runId, runtime, runtimeReason: reason, ...(runtime === 'docker' ? { images } : {}), timeScale: factor, repeat, signal: ac.signal, hooks: liveHooks(loaded.driver.wording, liveLine) });
  } catch (err) {
    if (!(err instanceof RunInterrupted)) throw err;
    result = err.partial;
    failure = err;
  } finally {
    offSignals();
    // Every service is stopped by now (or, after an error, by the exit hook of the runtime).
    guard.finish();
  }
  await writeResultFile(file, result);
  process.stdout.write(summary(result, { color: process.stdout.isTTY === true }));
  process.stdout.write(`result: ${relative(process.cwd(), file) || file}\n`);
  const reports = reportsSummary(await writeReports(result, outDir, flags.out === undefined ? { indexFolder: resolve('results') } : {}), process.cwd());
  process.stdout.write(reports.stdout);
  process.stderr.write(reports.stderr);
  if (failure) throw failure;
  return result.passed ? ExitCode.Pass : ExitCode.SlaFailed;
}
