import type { ImageKey } from '../runtime/images.ts';
import type { Duration } from '../base/duration.ts';
import type { HttpWorkload } from '../drivers/http-workload.ts';
import type { MessagingWorkload } from '../drivers/messaging/messaging-workload.ts';
import type { IdsWorkload } from '../drivers/ids-workload.ts';
import type { LockWorkload } from '../drivers/lock/lock-workload.ts';
import type { RpcWorkload } from '../drivers/rpc/rpc-workload.ts';
import type { DesignSpec } from '../../targets/index.ts';
import type { Fault } from '../faults/fault-spec.ts';

export type { Duration, HttpWorkload, DesignSpec, Fault };

/**
 * An SLA line judged inside or around one fault's window instead of the whole run. Windows are
 * whole seconds: `before` the seconds that end by the fault's start, `during` every second that
 * overlaps it (operations count in the second they were due, so those it held back count there), `after` the seconds from its end to the end of the run (or for `for`).
 */
export type ScopedSla = ({ before: string; during?: never; after?: never } | { during: string; before?: never; after?: never } | { after: string; before?: never; during?: never }) & {
  /** The SLA line, e.g. `p99 < 250ms`; after a fault also `recovery < 3s`. */
  check: string;
  /** With `after`: judge only this long after the fault's end. */
  for?: Duration;
  /**
   * With `recovery`: how long after the fault's end the `until` thresholds must keep holding
   * for the design to count as recovered. Default: until the next fault starts, or the window ends.
   */
  hold?: Duration;
  /**
   * With `recovery`: what "recovered" means, per second (e.g. `['p99 < 100ms', 'errors < 1%']`).
   * Default: the scenario's whole-run latency and error lines.
   */
  until?: string[];
};

/**
 * The load a scenario drives through every design: one workload kind per scenario (`http`,
 * `messaging`), so every design gets the same load; each design's target says which protocol its
 * entry speaks, and the kind's driver speaks it through its adapter for that protocol.
 */
export type Workload = HttpWorkload | MessagingWorkload | IdsWorkload | LockWorkload | RpcWorkload;

/**
 * A scenario: which designs to compare, the load to drive through each, and the SLA each must
 * meet. Plain data: `defineScenario` only gives it a type.
 */
export interface Scenario {
  /** Short kebab-case name (`cluster-vs-single`); names the output folder. */
  name: string;
  /** One or two sentences: the question this scenario answers. */
  description: string;
  /**
   * The designs compared, by name (letters, digits, `.`, `_`, `-`). Each is built by a target's
   * builder, e.g. `httpService()`, `nodeCluster({ workers: 2 })`. Designs run one after the
   * other, never at the same time, so they never compete for the machine.
   */
  designs: Record<string, DesignSpec>;
  /**
   * The docker runtime's images by key (`node`, `haproxy`, `nginx`, `redis`, `rabbitmq`,
   * `kafka`, `toxiproxy`), e.g. `{ haproxy: 'haproxy:2.8' }`. Default: the pinned official
   * images in harness/runtime/images.ts; `FAULTLINE_IMAGE_<KEY>` and `--image` override these.
   */
  images?: Partial<Record<ImageKey, string>>;
  /** The load, the same for every design, e.g. `http({ model: 'open', rate: 200, path: '/work?ms=2' })`. */
  workload: Workload;
  /** Load driven before the measured window and not recorded (JIT, caches, connections). Default `2s`. */
  warmup?: Duration;
  /** Length of the measured window, e.g. `30s`. */
  duration: Duration;
  /**
   * SLA lines every design must meet over the measured window, e.g. `p99 < 100ms`,
   * `errors < 0.5%`, `throughput >= 1000/s`, `count(timeout) == 0`, or scoped to a fault:
   * `{ during: 'slow', check: 'p99 < 250ms' }`, `{ after: 'crash', check: 'recovery < 3s' }`.
   * The grammar is written down in harness/sla/sla-grammar.ts. Default: none.
   */
  sla?: (string | ScopedSla)[];
  /**
   * The fault timeline, the same for every design: network faults on links (through Toxiproxy)
   * and process faults on services, each at an offset inside the measured window, e.g.
   * `{ name: 'slow', at: '10s', for: '5s', link: 'client->service', latency: { latency: 200 } }`.
   */
  faults?: Fault[];
}

/** Identity function that exists for its types: editor completion and checking for a scenario. */
export function defineScenario<const S extends Scenario>(scenario: S): S {
  return scenario;
}
