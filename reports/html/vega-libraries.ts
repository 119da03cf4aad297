import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The browser builds inlined into every HTML report with charts, in load order. */
const builds = [
  ['vega', 'vega.min.js'],
  ['vega-lite', 'vega-lite.min.js'],
  ['vega-embed', 'vega-embed.min.js'],
] as const;

let cached: string[] | undefined;

/**
 * The minified browser builds of Vega, Vega-Lite and vega-embed, read from the installed
 * packages (each package's entry point sits in the same `build/` folder as its browser build).
 * Source-map comments are dropped (the maps are not shipped) and any `</script` is written
 * `<\/script` so the text can sit inside an inline `<script>` element.
 */
export function vegaLibraries(): readonly string[] {
  cached ??= builds.map(([pkg, file]) => {
    const dir = dirname(fileURLToPath(import.meta.resolve(pkg)));
    return readFileSync(join(dir, file), 'utf8')
      .replace(/\n?\/\/# sourceMappingURL=\S+\s*$/, '\n')
      .replace(/<\/script/gi, '<\\/script');
  });
  return cached;
}
