#!/usr/bin/env node
// After `tsc -p tsconfig.build.json`: the JavaScript modules tsc does not emit into dist/ (an
// `.mjs` with a hand-written `.d.mts` beside it is taken as declared, not compiled) are copied
// there as they are, with their declarations, so the installed package has every module its
// compiled code imports.
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
    if (!file.endsWith('.mjs') && !file.endsWith('.d.mts')) continue;
    const target = join(out, relative(root, file));
    if (existsSync(target)) continue;
    mkdirSync(dirname(target), { recursive: true });
    copyFileSync(file, target);
    copied++;
  }
}
process.stdout.write(`copy-assets: ${copied} module${copied === 1 ? '' : 's'} tsc did not emit copied into dist/\n`);
