import { spawn } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { STOP_SIGNALS } from './stop-signals.ts';

const module = fileURLToPath(new URL('./stop-signals.ts', import.meta.url));

/** A process that installs the stop-signal handlers as `faultline run` does, receives `signal` for real, and reports. */
function receive(signal: NodeJS.Signals): Promise<{ code: number | null; signal: NodeJS.Signals | null; stdout: string }> {
  const script = `import { onStopSignals } from ${JSON.stringify(module)};
const keep = setInterval(() => {}, 1000);
const off = onStopSignals((sig) => { console.log('stopping on ' + sig); off(); clearInterval(keep); process.exitCode = 130; });
console.log('ready');`;
  const child = spawn(process.execPath, ['--input-type=module', '-e', script], { stdio: ['ignore', 'pipe', 'inherit'] });
  let stdout = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d.toString();
    if (stdout === 'ready\n') child.kill(signal);
  });
  return new Promise((resolve) => child.once('close', (code, sig) => resolve({ code, signal: sig, stdout })));
}

describe('stop signals', () => {
  it('are SIGINT, SIGTERM and SIGHUP', () => {
    expect(STOP_SIGNALS).toEqual(['SIGINT', 'SIGTERM', 'SIGHUP']);
  });

  it.each(STOP_SIGNALS)('%s reaches the handler instead of ending the process', async (signal) => {
    expect(await receive(signal)).toEqual({ code: 130, signal: null, stdout: `ready\nstopping on ${signal}\n` });
  });
});
