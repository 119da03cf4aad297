import { LOAD_GENERATOR, type DesignResult, type RunResult } from '../../harness/result/result.ts';
import { faultBandLayers, layered, timeAxis, timeLine, windowSeconds, type LayeredSpec } from './chart.ts';

/** Whether any second of a design has a resource sample. */
export function hasResources(design: DesignResult): boolean {
  return design.series.some((row) => row.resources !== undefined);
}

/**
 * The CPU each service of a design used in each measured second, as a percentage of one core
 * (100% = one core busy the whole second), a line per service, the load generator's dashed, so
 * a harness that ran out of CPU shows beside the design. Fault windows shaded.
 */
export function cpuOverTime(result: RunResult, design: DesignResult): LayeredSpec {
  const seconds = windowSeconds(result, design);
  const windowS = result.scenario.durationMs / 1000;
  const values = design.series.flatMap((row) => {
    // The window's last second may be partial: its CPU is spread over the part it lasted.
    const span = windowS - row.second > 0 && windowS - row.second < 1 ? windowS - row.second : 1;
    return Object.entries(row.resources ?? {}).map(([service, r]) => ({
      t: row.second + 0.5,
      service,
      role: service === LOAD_GENERATOR ? 'load generator' : 'design',
      cpu: Math.round((r.cpuUs / (span * 1e6)) * 1000) / 10,
      ms: Math.round(r.cpuUs / 100) / 10,
    }));
  });
  return layered([
    ...faultBandLayers(design.faults, seconds),
    {
      name: 'cpu',
      data: { values },
      mark: timeLine(seconds),
      encoding: {
        x: timeAxis(seconds),
        y: { field: 'cpu', type: 'quantitative', title: 'CPU (% of one core)', scale: { domainMin: 0 } },
        color: { field: 'service', type: 'nominal', title: null, scale: { scheme: 'category10' } },
        strokeDash: { field: 'role', type: 'nominal', title: null, scale: { domain: ['design', 'load generator'], range: [[1, 0], [4, 3]] }, legend: null },
        tooltip: [{ field: 't', title: 'second', format: '.1f' }, { field: 'service' }, { field: 'cpu', title: 'CPU (%)', format: ',.1f' }, { field: 'ms', title: 'CPU time (ms)', format: ',.1f' }],
      },
    },
  ]);
}
