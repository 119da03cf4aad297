// The system programs faultline's local runtime, tests and benchmarks run, with the Debian
// package that provides each. `faultline doctor` and the set-up both read this one list.

/**
 * `versionArgs: null`: the program must not be run to ask its version (it would start serving);
 * found is all `faultline doctor` says of it. An entry with `file` instead of `command` is a
 * library, which has no command: found when that file (one of its headers) exists.
 * @type {ReadonlyArray<{ command: string, debianPackage: string, purpose: string, versionArgs: string[] | null } | { file: string, debianPackage: string, purpose: string }>}
 */
export const systemPrograms = [
  { command: 'haproxy', debianPackage: 'haproxy', purpose: 'haproxy targets (load balancer designs)', versionArgs: ['-v'] },
  { command: 'nginx', debianPackage: 'nginx', purpose: 'nginx targets; the driver benchmark', versionArgs: ['-v'] },
  // rabbitmq-server has no version flag: run with or without arguments, it boots a node.
  { command: '/usr/lib/rabbitmq/bin/rabbitmq-server', debianPackage: 'rabbitmq-server', purpose: 'rabbitmq targets (messaging designs)', versionArgs: null },
  { command: 'redis-server', debianPackage: 'redis-server', purpose: 'redis targets (independent masters, e.g. for Redlock)', versionArgs: ['--version'] },
  { command: 'redis-benchmark', debianPackage: 'redis-tools', purpose: "the ids benchmark (one Redis server's INCR ceiling)", versionArgs: ['--version'] },
  { command: 'wrk', debianPackage: 'wrk', purpose: 'the driver benchmark (reference load generator)', versionArgs: ['--version'] },
  { command: '/usr/bin/time', debianPackage: 'time', purpose: "the driver benchmark (wrk's own CPU time)", versionArgs: ['--version'] },
  { command: 'dockerd', debianPackage: 'docker.io', purpose: 'the docker runtime and its tests (an engine faultline starts when none answers)', versionArgs: ['--version'] },
  { command: 'debootstrap', debianPackage: 'debootstrap', purpose: 'building the docker runtime test images without a registry', versionArgs: ['--version'] },
  { command: 'faketime', debianPackage: 'faketime', purpose: "clock faults (its libfaketime moves a service's wall clock)", versionArgs: ['--version'] },
  { command: 'chromium', debianPackage: 'chromium', purpose: 'the HTML report tests (headless, driven by playwright-core)', versionArgs: ['--version'] },
  // @confluentinc/kafka-javascript builds the librdkafka it bundles, and its addon, from source.
  { command: 'g++', debianPackage: 'g++', purpose: "building librdkafka for Kafka designs with client: 'confluent'", versionArgs: ['--version'] },
  { command: 'make', debianPackage: 'make', purpose: "building librdkafka for Kafka designs with client: 'confluent'", versionArgs: ['--version'] },
  { file: '/usr/include/zlib.h', debianPackage: 'zlib1g-dev', purpose: "librdkafka's gzip, for client: 'confluent' (it builds without gzip when this is missing)" },
];
