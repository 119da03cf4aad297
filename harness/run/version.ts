import { readFileSync } from 'node:fs';

/** faultline's own version, from package.json. */
export function faultlineVersion(): string {
  const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
