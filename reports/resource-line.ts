import { formatBytes } from '../harness/result/format.ts';
import { LOAD_GENERATOR, type DesignResult, type Wording } from '../harness/result/result.ts';

/** CPU µs per operation for people (`143 µs/op`), or why there is none. */
function perOp(us: number | null, wording: Wording): string {
  return us === null ? `no ${wording.many} completed` : `${Math.round(us)} µs/op`;
}

/**
 * What a design's answers cost, in one line: its services' CPU per operation together and each
 * service's, their peak resident memory together, and the load generator's own CPU per
 * operation, so a reader sees when the harness, not the design, was the bottleneck:
 * `cpu: 143 µs/op (service 120 µs, lb 23 µs), peak rss 85 MB; load generator 61 µs/op`.
 * Undefined when the design's resources were not sampled.
 */
export function resourceLine(d: DesignResult, wording: Wording): string | undefined {
  const r = d.resources;
  if (!r) return undefined;
  const services = Object.entries(r.byService).filter(([name]) => name !== LOAD_GENERATOR);
  const generator = r.byService[LOAD_GENERATOR];
  const design = services.length === 0
    ? 'cpu: no service gave a sample'
    : `cpu: ${perOp(r.cpuUsPerOp, wording)} (${services.map(([name, s]) => `${name} ${s.cpuUsPerOp === null ? '—' : `${Math.round(s.cpuUsPerOp)} µs`}`).join(', ')}), peak rss ${formatBytes(r.peakRssBytes).replace(/(?<=\d)(?=[A-Z])/, ' ')}`;
  return generator ? `${design}; load generator ${perOp(generator.cpuUsPerOp, wording)}` : design;
}
