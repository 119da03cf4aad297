import { readFileSync } from 'node:fs';
import { isCompiled } from '../base/own-file.ts';

/** faultline's own version, from its package.json: two folders up in the repository, three in the installed package (dist/harness/run). */
export function faultlineVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL(isCompiled(import.meta.url) ? '../../../package.json' : '../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
