import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { systemPrograms } from '../tooling/setup/system-programs.mjs';
import { findGoTool, goTools } from '../base/go-tools.mjs';
import { ExitCode } from '../errors.ts';
import { engineAnswers } from '../tooling/docker/engine.ts';
import { leftovers, removeLeftovers } from '../runtime/docker-leftovers.ts';

const NODE_MIN: [number, number] = [22, 19];

function programVersion(command: string, args: string[] | null): string | undefined {
  // A program that cannot be asked without starting it is only looked for.
  if (args === null) return existsSync(command) ? 'found' : undefined;
  const r = spawnSync(command, args, { encoding: 'utf8' });
  if (r.error) return undefined;
  const text = `${r.stdout ?? ''}${r.stderr ?? ''}`.trim().split('\n')[0] ?? '';
  return text || 'found';
}

/**
 * `faultline doctor`: Node's version and each system program, found or missing with how to
 * install it; which runtime `auto` picks. With `clean`: removes every container and network
 * faultline labelled (`faultline.run`), e.g. after a crashed run.
 */
export function doctorCommand(opts: { clean?: boolean } = {}): number {
  let ok = true;
  const [major, minor] = process.versions.node.split('.').map(Number) as [number, number];
  const nodeOk = major > NODE_MIN[0] || (major === NODE_MIN[0] && minor >= NODE_MIN[1]);
  ok &&= nodeOk;
  process.stdout.write(`${nodeOk ? 'ok     ' : 'MISSING'}  node ${process.version}${nodeOk ? '' : ` (need >= ${NODE_MIN.join('.')}: npm run setup, or npm install -g --force node@22)`}\n`);
  for (const p of systemPrograms) {
    const version = programVersion(p.command, p.versionArgs);
    ok &&= version !== undefined;
    process.stdout.write(version
      ? `ok       ${p.command}: ${version}  (${p.purpose})\n`
      : `MISSING  ${p.command}  (${p.purpose}): npm run setup, or apt-get install -y ${p.debianPackage}\n`);
  }
  for (const t of goTools) {
    const found = findGoTool(t);
    ok &&= found !== undefined;
    process.stdout.write(found
      ? `ok       ${t.command}: ${found}  (${t.purpose})\n`
      : `MISSING  ${t.command}  (${t.purpose}): npm run setup, or go install ${t.module}\n`);
  }
  const engine = engineAnswers();
  process.stdout.write(engine
    ? 'runtime: auto picks docker (a Docker engine answers)\n'
    : 'runtime: auto picks local (no Docker engine answers; node harness/tooling/docker/engine.ts start starts one)\n');
  if (engine && opts.clean) {
    const removed = removeLeftovers();
    process.stdout.write(`clean: removed ${removed.containers} container(s) and ${removed.networks} network(s) labelled by faultline\n`);
  } else if (engine) {
    const left = leftovers();
    if (left.containers.length + left.networks.length > 0) {
      process.stdout.write(`leftovers: ${left.containers.length} container(s) and ${left.networks.length} network(s) labelled by faultline; faultline doctor --clean removes them\n`);
    }
  }
  return ok ? ExitCode.Pass : ExitCode.InvalidInput;
}
