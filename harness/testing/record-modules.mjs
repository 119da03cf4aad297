// Preloaded with `node --import` by loadedModules() (loaded-modules.ts): writes the URL of every
// module the process loaded — ESM and CommonJS, ours and node_modules' — to the file named by
// FAULTLINE_MODULES_OUT when the process exits.
import { writeFileSync } from 'node:fs';
import { registerHooks } from 'node:module';

const loaded = new Set();
registerHooks({
  load(url, context, nextLoad) {
    loaded.add(url);
    return nextLoad(url, context);
  },
});
const out = process.env.FAULTLINE_MODULES_OUT;
if (out) process.on('exit', () => writeFileSync(out, [...loaded].join('\n')));
