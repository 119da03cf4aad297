import { ExitCode } from '../errors.ts';
import { loadScenario, scenarioNames } from '../scenario/load-scenario.ts';

/** `faultline list`: each scenario with its description and designs. */
export async function listCommand(): Promise<number> {
  for (const name of scenarioNames()) {
    try {
      const { scenario } = await loadScenario(name);
      process.stdout.write(`${name}\n  ${scenario.description}\n  designs: ${Object.keys(scenario.designs).join(', ')}\n`);
    } catch (err) {
      process.stdout.write(`${name}\n  (invalid: ${err instanceof Error ? err.message : String(err)})\n`);
    }
  }
  return ExitCode.Pass;
}
