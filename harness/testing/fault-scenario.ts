import { writeFile } from 'node:fs/promises';
import { join } from 'node:path';
import { ownFile } from '../base/own-file.ts';
import { mergeEncoded } from '../metrics/histogram.ts';
import type { SecondStats } from '../result/result.ts';

const harness = ownFile('../index.ts', import.meta.url);

/**
 * Writes `<dir>/<file>`: a scenario with one http-service design under 100 req/s of
 * `/work?ms=1`, warm-up 1 s, and the given window, faults and SLA lines.
 */
export async function writeFaultScenario(dir: string, file: string, body: { name: string; duration: string; faults: unknown[]; sla?: unknown[] }): Promise<string> {
  const path = join(dir, file);
  await writeFile(path, `import { defineScenario, http, httpService } from ${JSON.stringify(harness)};
export default defineScenario({
  name: ${JSON.stringify(body.name)},
  description: 'faults under test',
  designs: { single: httpService() },
  workload: http({ model: 'open', rate: 100, path: '/work?ms=1', timeout: '3s' }),
  warmup: '1s',
  duration: ${JSON.stringify(body.duration)},
  faults: ${JSON.stringify(body.faults)},
  sla: ${JSON.stringify(body.sla ?? [])},
});\n`);
  return path;
}

/** A percentile (µs) of the merged histograms of some seconds of a series. */
export function percentileOfSeconds(rows: readonly SecondStats[], seconds: readonly number[], percentile: number): number {
  const h = mergeEncoded(seconds.map((s) => rows[s]!.histogram));
  const v = h.getValueAtPercentile(percentile);
  h.destroy();
  return v;
}
