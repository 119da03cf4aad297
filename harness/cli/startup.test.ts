import { writeFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cliFile } from '../testing/cli.ts';
import { loadedModules, packagesOf } from '../testing/loaded-modules.ts';

// What each quick command loads, not how long it takes: the docker runtime (testcontainers and
// its gRPC and protobuf stack), the chart renderer, the drivers' clients and the browser are
// loaded by the commands that use them, when they use them.
const heavy = ['testcontainers', 'dockerode', '@grpc/grpc-js', 'protobufjs', 'ssh2', 'vega', 'vega-lite', 'vega-embed', 'playwright-core', 'kafkajs', 'amqplib', 'undici', 'autocannon', 'toxiproxy-node-client', 'hdr-histogram-js', 'ioredis'];
const harness = fileURLToPath(new URL('../index.ts', import.meta.url));
const ours = (modules: string[], folder: string) => modules.filter((m) => m.includes(`/${folder}/`) && !m.includes('/node_modules/'));

let work: string;
beforeAll(async () => {
  work = await mkdtemp(join(tmpdir(), 'faultline-startup-test-'));
});
afterAll(async () => {
  await rm(work, { recursive: true, force: true });
});

describe('modules loaded by', () => {
  it('a plain require of a client: the recorder sees CommonJS packages too', async () => {
    const { code, modules } = await loadedModules(['-e', "require('kafkajs')"]);
    expect(code).toBe(0);
    expect(packagesOf(modules)).toContain('kafkajs');
  });

  it('faultline list: every scenario and its validation, none of the heavy packages, no runtime, no reports', async () => {
    const { code, modules, stderr } = await loadedModules([cliFile, 'list']);
    expect(stderr).toBe('');
    expect(code).toBe(0);
    expect(modules.some((m) => m.endsWith('/scenarios/lb-algorithms.ts'))).toBe(true);
    expect(modules.some((m) => m.endsWith('/harness/scenario/validate-scenario.ts'))).toBe(true);
    expect(packagesOf(modules).filter((p) => heavy.includes(p))).toEqual([]);
    expect(ours(modules, 'reports')).toEqual([]);
    expect(ours(modules, 'run')).toEqual([]);
    expect(modules.filter((m) => /\/harness\/runtime\/(docker|local)-runtime\.ts$/.test(m))).toEqual([]);
  });

  it('faultline --help: the entry and its error table only', async () => {
    const { code, modules } = await loadedModules([cliFile, '--help']);
    expect(code).toBe(0);
    expect(modules.filter((m) => m.startsWith('file:')).map((m) => m.replace(/^.*\/harness\//, 'harness/'))).toEqual(['harness/cli/faultline.ts', 'harness/errors.ts']);
  });

  it('faultline run on an invalid scenario: reported (exit 2) without the engine, the reports or a heavy package', async () => {
    const file = join(work, 'broken.ts');
    await writeFile(file, `import { defineScenario, http, httpService } from ${JSON.stringify(harness)};
export default defineScenario({ name: 'broken', description: 'x', designs: { one: httpService() }, workload: http({ model: 'open', rate: 100, path: '/' }), duration: '5 seconds' } as never);\n`);
    const { code, modules, stderr } = await loadedModules([cliFile, 'run', file]);
    expect(stderr).toMatch(/duration: expected a duration/);
    expect(code).toBe(2);
    expect(packagesOf(modules).filter((p) => heavy.includes(p))).toEqual([]);
    expect(ours(modules, 'reports')).toEqual([]);
    expect(ours(modules, 'run')).toEqual([]);
  });

  it('harness/index.ts, which every scenario imports: zod and the builders, no client', async () => {
    const { code, modules } = await loadedModules(['--input-type=module', '-e', `await import(${JSON.stringify(harness)})`]);
    expect(code).toBe(0);
    expect(packagesOf(modules)).toEqual(['zod']);
  });
});
