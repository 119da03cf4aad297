import { existsSync, readdirSync } from 'node:fs';
import { basename, dirname, extname, isAbsolute, join, relative, resolve } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { FaultlineError } from '../errors.ts';
import { registries, validateScenario, type Registries, type ValidScenario } from './validate-scenario.ts';

/** The project's own scenarios folder. */
export const scenariosDir = join(dirname(fileURLToPath(import.meta.url)), '..', '..', 'scenarios');
const extensions = ['.ts', '.mts', '.js', '.mjs'];

/** Names of the scenarios in the project's scenarios folder. */
export function scenarioNames(): string[] {
  return readdirSync(scenariosDir)
    // Not tests, and not the type declarations beside the installed package's compiled scenarios.
    .filter((f) => extensions.includes(extname(f)) && !f.includes('.test.') && !/\.d\.[cm]?ts$/.test(f))
    .map((f) => basename(f, extname(f)))
    .filter((name, i, all) => all.indexOf(name) === i)
    .sort();
}

/** A scenario argument is a path when it names a file; otherwise a name in scenarios/. */
export function resolveScenarioFile(arg: string): string {
  const looksLikePath = arg.includes('/') || extensions.includes(extname(arg));
  if (looksLikePath) {
    const file = isAbsolute(arg) ? arg : resolve(process.cwd(), arg);
    if (!existsSync(file)) throw new FaultlineError('invalid-argument', `scenario file '${arg}' does not exist`, { hint: 'check the path, or give a scenario name (faultline list)' });
    return file;
  }
  for (const ext of extensions) {
    const file = join(scenariosDir, `${arg}${ext}`);
    if (existsSync(file)) return file;
  }
  throw new FaultlineError('invalid-argument', `no scenario named '${arg}'`, {
    hint: `valid names: ${scenarioNames().join(', ')}; or give a path to a scenario file`,
  });
}

/** A loaded, validated scenario and where it came from. */
export interface LoadedScenario extends ValidScenario {
  file: string;
}

/**
 * Imports a scenario file and validates its default export. Every problem is reported at once,
 * each prefixed with the file and field path; nothing is started.
 */
export async function loadScenario(arg: string): Promise<LoadedScenario> {
  const file = resolveScenarioFile(arg);
  const shown = relative(process.cwd(), file) || file;
  let mod: { default?: unknown };
  try {
    mod = (await import(pathToFileURL(file).href)) as { default?: unknown };
  } catch (err) {
    throw new FaultlineError('invalid-scenario', `scenario file ${shown} could not be loaded: ${err instanceof Error ? err.message : String(err)}`, {
      hint: 'fix the error above; a scenario file default-exports defineScenario({ ... })',
      cause: err,
    });
  }
  if (mod.default === undefined) {
    throw new FaultlineError('invalid-scenario', `scenario file ${shown} has no default export`, { hint: 'end it with: export default defineScenario({ ... })' });
  }
  const checked = validateScenario(mod.default, await knownRegistries());
  if (!checked.ok) {
    const n = checked.problems.length;
    throw new FaultlineError('invalid-scenario', `scenario file ${shown} has ${n} problem${n === 1 ? '' : 's'}; nothing was started`, {
      detail: checked.problems.map((p) => `  ${shown}: ${p.path}: ${p.message}`).join('\n'),
      hint: 'fix each field named above and run again',
    });
  }
  return { ...checked.value, file };
}

/**
 * The registries a scenario is checked against: faultline's own, plus with
 * `FAULTLINE_TEST_KIT=1` the test kit's instruments (harness/testing/kit), which prove the
 * engine's contracts end to end through the CLI and are never offered to users otherwise.
 */
async function knownRegistries(): Promise<Registries> {
  if (process.env.FAULTLINE_TEST_KIT !== '1') return registries;
  const kit = (await import('../testing/kit/index.ts')) as { testKit: Registries };
  return { targets: { ...registries.targets, ...kit.testKit.targets }, drivers: { ...registries.drivers, ...kit.testKit.drivers } };
}
