import type { Endpoint } from '../base/endpoint.ts';
import { endpointText } from '../base/endpoint.ts';
import { FaultlineError } from '../errors.ts';
import type { ProxiedLink, ToxiproxyControl } from '../faults/toxiproxy.ts';
import type { LinkInfo, ServiceInfo } from '../result/result.ts';
import type { Runtime, StartedService } from '../runtime/runtime.ts';
import { clientLinkName, type EntrySpec, type Topology } from '../runtime/service-spec.ts';

/** A design's services, running and ready, and how the load reaches them. */
export interface UpTopology {
  started: Map<string, StartedService>;
  /** Every proxied link by name (those a fault may touch). */
  links: Map<string, ProxiedLink>;
  services: ServiceInfo[];
  linkInfo: LinkInfo[];
  /** The entry as the load reaches it: each endpoint direct, or through its client link's proxy. */
  entry: { protocol: string; endpoints: Endpoint[] };
}

function proxyName(design: string, link: string): string {
  return `${design}/${link}`.replace(/[^A-Za-z0-9_.-]/g, '_');
}

/**
 * Starts a design's services in order. Proxies come first: a client link a fault may touch
 * gets its Toxiproxy proxy before the service it leads to starts, and that service is told the
 * proxy's address as its advertised address (a Kafka broker hands it to its clients, so they
 * really go through the proxy); the proxy is pointed at the service once it runs. A link
 * between services a fault may touch gets a proxy in front of the service it leads to, and the
 * service at its other end is given the proxy's address instead.
 */
export async function startTopology(topology: Topology, entry: EntrySpec, design: string, proxied: ReadonlySet<string>, runtime: Runtime, control: ToxiproxyControl | undefined, signal: AbortSignal): Promise<UpTopology> {
  const started = new Map<string, StartedService>();
  const links = new Map<string, ProxiedLink>();
  const services: ServiceInfo[] = [];
  const proxy = (): ToxiproxyControl => {
    if (!control) throw new FaultlineError('internal', `design '${design}' has links a fault may touch but no Toxiproxy was started`);
    return control;
  };
  const entryServices = new Set(entry.endpoints.map((p) => p.service));
  for (const spec of topology.services) {
    signal.throwIfAborted();
    const outgoing: Record<string, Endpoint> = {};
    for (const l of (topology.links ?? []).filter((x) => x.from === spec.name)) {
      const to = started.get(l.to);
      if (!to) throw new FaultlineError('internal', `in design '${design}', service '${spec.name}' starts before '${l.to}', which its link '${l.name}' leads to`);
      const upstream = to.peerEndpoint(l.port);
      if (!proxied.has(l.name)) {
        outgoing[l.name] = upstream;
        continue;
      }
      const p = await proxy().link(proxyName(design, l.name), l.name, upstream);
      links.set(l.name, p);
      outgoing[l.name] = p.listen;
    }
    const clientLink = clientLinkName(spec.name);
    const reserved = entryServices.has(spec.name) && proxied.has(clientLink) ? await proxy().reserve(proxyName(design, clientLink), clientLink) : undefined;
    const entryPorts = entry.endpoints.filter((p) => p.service === spec.name).map((p) => p.port);
    const advertised = reserved ? Object.fromEntries(entryPorts.map((p) => [p, reserved.listen])) : undefined;
    const svc = await runtime.start(spec, { links: outgoing, ...(advertised ? { advertised } : {}) });
    started.set(spec.name, svc);
    if (reserved) {
      // A proxy forwards to one port: a service the entry reaches on several ports has one client link per port at most.
      links.set(clientLink, await reserved.connect(svc.peerEndpoint(entryPorts[0])));
    }
    services.push({
      name: svc.name,
      target: svc.target,
      program: svc.program.name,
      version: svc.program.version,
      endpoints: Object.fromEntries(spec.ports.map((p) => [p, endpointText(spec.protocols?.[p] ?? 'tcp', svc.endpoint(p))])),
    });
  }
  const endpoints = entry.endpoints.map((p) => {
    const viaProxy = links.get(clientLinkName(p.service));
    // The load reaches an endpoint directly (its bridge address in docker), or through its proxy.
    return viaProxy ? viaProxy.listen : started.get(p.service)!.endpoint(p.port);
  });
  const linkInfo: LinkInfo[] = [...links.values()].map((l) => {
    const spec = topology.links?.find((x) => x.name === l.name);
    return { name: l.name, from: spec?.from ?? 'client', to: spec?.to ?? l.name.replace(/^client->/, ''), listen: `${l.listen.host}:${l.listen.port}`, upstream: `${l.upstream.host}:${l.upstream.port}` };
  });
  return { started, links, services, linkInfo, entry: { protocol: entry.protocol, endpoints } };
}
