/** An address a client can reach. */
export interface Endpoint {
  host: string;
  port: number;
}

/** `<protocol>://host:port`, with IPv6 hosts in brackets: how result.json records an endpoint. */
export function endpointText(protocol: string, ep: Endpoint): string {
  return `${protocol}://${ep.host.includes(':') ? `[${ep.host}]` : ep.host}:${ep.port}`;
}
