#!/usr/bin/env node
// After `tsc -p tsconfig.build.json`: what tsc does not emit into dist/ is copied there as it
// is — JavaScript modules it takes as declared (an `.mjs` with a hand-written `.d.mts` beside
// it), their declarations, and the `.proto` files services load at run time — so the installed
// package has every file its compiled code reads.
import { copyFileSync, existsSync, mkdirSync, readdirSync } from 'node:fs';
import { dirname, join, relative } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..', '..', '..');
const out = join(root, 'dist');

/** @param {string} dir @returns {string[]} */
function walk(dir) {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) => (e.isDirectory() ? walk(join(dir, e.name)) : [join(dir, e.name)]));
}

let copied = 0;
for (const top of ['harness', 'targets', 'reports']) {
  for (const file of walk(join(root, top))) {
    if (!['.mjs', '.d.mts', '.proto'].some((ext) => file.endsWith(ext))) continue;
    const target = join(out, relative(root, file));
    if (existsSync(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
    copied++;
  }
}
process.stdout.write(`copy-assets: ${copied} file${copied === 1 ? '' : 's'} tsc did not emit copied into dist/\n`);
