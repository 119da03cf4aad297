import type { ToxicType } from 'toxiproxy-node-client';
import { FaultlineError } from '../errors.ts';
import type { StartedService } from '../runtime/runtime.ts';
import { faultKind, parseClockOffset, type ClientFault, type Fault, type FaultKind, type LinkFault, type ServiceFault } from './fault-spec.ts';
import type { ProxiedLink } from './toxiproxy.ts';

/** Undoes an applied fault: removes the toxic, re-enables the link, resumes or restarts the service, sets its clock right. */
export type Remover = () => Promise<void>;

/** What a fault acts on in one design. */
export interface FaultTargets {
  links: ReadonlyMap<string, ProxiedLink>;
  services: ReadonlyMap<string, StartedService>;
  /** The load's own clients (the design's driver), for `crash` faults. */
  clients?: ClientControl;
}

/** What a driver does for a fault on one of its clients (names from its definition's `clients`). */
export interface ClientControl {
  /** Kills the client on the spot: its connection cut without a goodbye, what it held in memory dropped. */
  crash?(client: string): Promise<void>;
  /** Starts a new client in the crashed one's place. */
  revive?(client: string): Promise<void>;
  /** Stops the client where it is (SIGSTOP of its process), connections left open. */
  freeze?(client: string): Promise<void>;
  /** Lets a frozen client run on. */
  thaw?(client: string): Promise<void>;
}

async function applyToxic(fault: LinkFault, link: ProxiedLink, type: ToxicType, attributes: object): Promise<Remover> {
  const streams = fault.direction === 'both' ? (['upstream', 'downstream'] as const) : [fault.direction ?? 'downstream'];
  const toxics: { remove(): Promise<void> }[] = [];
  for (const stream of streams) {
    toxics.push(await link.proxy.addToxic({ name: `${fault.name}-${stream}`, type, stream, toxicity: fault.toxicity ?? 1, attributes }));
  }
  return async () => {
    for (const t of toxics) await t.remove();
  };
}

async function applyLinkFault(fault: LinkFault, kind: FaultKind, link: ProxiedLink): Promise<Remover> {
  if (kind === 'down') {
    await link.proxy.update({ enabled: false, listen: link.proxy.listen, upstream: link.proxy.upstream });
    return async () => {
      await link.proxy.update({ enabled: true, listen: link.proxy.listen, upstream: link.proxy.upstream });
    };
  }
  const attributes = (fault as unknown as Record<string, object>)[kind]!;
  // Toxiproxy's reset_peer defaults its timeout to 0 (reset at once); say so explicitly.
  const withDefaults = kind === 'reset_peer' ? { timeout: 0, ...attributes } : attributes;
  return applyToxic(fault, link, kind as ToxicType, withDefaults);
}

async function applyServiceFault(fault: ServiceFault, kind: FaultKind, svc: StartedService): Promise<Remover | undefined> {
  switch (kind) {
    case 'kill':
      await svc.kill((fault as { kill: NodeJS.Signals }).kill);
      return fault.for === undefined ? undefined : () => svc.restart();
    case 'pause':
      await svc.pause();
      return () => svc.resume();
    case 'restart':
      await svc.restart();
      return undefined;
    case 'clock': {
      // Resolves once the service's clock reads the offset (up to ~1 s after the write), so the
      // recorded applied and removed times are when the clock moved, not when it was asked to.
      const setOffset = svc.setClockOffset?.bind(svc);
      if (!setOffset) {
        throw new FaultlineError('fault', `service '${svc.name}' (${svc.target}) has no fake clock, so a clock fault cannot move it`, { hint: 'only services whose target runs them with fakeClock can take a clock fault' });
      }
      await setOffset(parseClockOffset((fault as { clock: string }).clock)!);
      return fault.for === undefined ? undefined : () => setOffset(0);
    }
  }
  throw new Error(`'${kind}' is not a service fault`);
}

/**
 * Applies one fault in one design and returns how to undo it (undefined for instant faults and
 * a kill without `for`). Throws when the fault cannot be applied.
 */
export async function applyFault(fault: Fault, targets: FaultTargets): Promise<Remover | undefined> {
  const kind = faultKind(fault);
  if ('link' in fault && fault.link !== undefined) {
    const link = targets.links.get(fault.link);
    if (!link) throw new Error(`link '${fault.link}' is not proxied in this design`);
    return applyLinkFault(fault as LinkFault, kind, link);
  }
  if ('client' in fault && fault.client !== undefined) {
    const client = fault.client;
    const control = targets.clients;
    if (kind === 'freeze') {
      if (!control?.freeze || !control.thaw) throw new Error(`this design's load has no clients a fault can freeze (only workloads whose clients are processes of their own, such as lock)`);
      await control.freeze(client);
      return () => control.thaw!(client);
    }
    if (!control?.crash || !control.revive) throw new Error(`this design's load has no clients a fault can crash`);
    await control.crash(client);
    return (fault as ClientFault).for === undefined ? undefined : () => control.revive!(client);
  }
  const name = (fault as ServiceFault).service;
  const svc = targets.services.get(name);
  if (!svc) throw new Error(`service '${name}' is not running in this design`);
  return applyServiceFault(fault as ServiceFault, kind, svc);
}
