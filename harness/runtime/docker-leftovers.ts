import { spawnSync } from 'node:child_process';
import { DOCKER_RUN_LABEL as RUN_LABEL } from './run-registry.ts';

function ids(args: string[]): string[] {
  const r = spawnSync('docker', args, { encoding: 'utf8', timeout: 10_000 });
  return r.status === 0 ? r.stdout.split('\n').map((l) => l.trim()).filter(Boolean) : [];
}

/** Containers and networks labelled by faultline (of one run, or of every run). */
export function leftovers(runId?: string): { containers: string[]; networks: string[] } {
  const filter = runId === undefined ? RUN_LABEL : `${RUN_LABEL}=${runId}`;
  return {
    containers: ids(['ps', '-aq', '--no-trunc', '--filter', `label=${filter}`]),
    networks: ids(['network', 'ls', '-q', '--no-trunc', '--filter', `label=${filter}`]),
  };
}
