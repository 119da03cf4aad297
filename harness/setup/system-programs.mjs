// The system programs faultline's local runtime, tests and benchmarks run, with the Debian
// package that provides each. `faultline doctor` and the set-up both read this one list.

/** @type {ReadonlyArray<{ command: string, debianPackage: string, purpose: string, versionArgs: string[] }>} */
export const systemPrograms = [
  { command: 'haproxy', debianPackage: 'haproxy', purpose: 'haproxy targets (load balancer designs)', versionArgs: ['-v'] },
  { command: 'nginx', debianPackage: 'nginx', purpose: 'nginx targets; the driver benchmark', versionArgs: ['-v'] },
  { command: 'wrk', debianPackage: 'wrk', purpose: 'the driver benchmark (reference load generator)', versionArgs: ['--version'] },
  { command: 'chromium', debianPackage: 'chromium', purpose: 'the HTML report tests (headless, driven by playwright-core)', versionArgs: ['--version'] },
];
