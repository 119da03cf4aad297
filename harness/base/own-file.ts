import { fileURLToPath } from 'node:url';

/**
 * The path of one of faultline's own files, named by its TypeScript source relative to the
 * module `from` (its `import.meta.url`). Run from the repository, that is the `.ts` file; run
 * from the installed package, whose modules are compiled, the `.js` file beside `from`.
 * Scripts faultline spawns (the watchdog, service programs) are found this way.
 */
export function ownFile(relative: string, from: string): string {
  const path = fileURLToPath(new URL(relative, from));
  return isCompiled(from) ? path.replace(/\.ts$/, '.js') : path;
}

/** Whether the module at `url` is compiled JavaScript (the installed package), not TypeScript source. */
export function isCompiled(url: string): boolean {
  return url.endsWith('.js');
}
