import { Resolver as DnsClient } from 'node:dns/promises';
import type { Discovery } from './gateway.config.js';

/**
 * Finds a service's instances: base URLs such as http://10.0.3.7:3003. It is
 * asked again every discovery interval, so instances come and go without a
 * restart; the platform (a static list, Docker's or Kubernetes' DNS) is the
 * registry, never a server of ours.
 */
export interface InstanceResolver {
  /** What it asks, for the admin listing: `static`, `dns webtoon:3003`. */
  readonly source: string;
  resolve(): Promise<readonly string[]>;
}

/** A fixed list, e.g. from WEBTOON_URLS: processes on this machine. */
export function staticResolver(urls: readonly string[]): InstanceResolver {
  const list = [...urls];
  return { source: 'static', resolve: () => Promise.resolve(list) };
}

export interface DnsResolverOptions {
  readonly hostname: string;
  readonly port: number;
  /** DNS servers to ask (ip or ip:port); the system's (resolv.conf) when unset. */
  readonly servers?: readonly string[];
}

/**
 * Every A record of a name is an instance: Docker Compose answers a service
 * name with one address per container (`--scale`), and a Kubernetes headless
 * Service with one per ready pod. It asks the DNS server itself rather than
 * getaddrinfo, which caches and would hide new instances.
 */
export function dnsResolver(options: DnsResolverOptions): InstanceResolver {
  const client = new DnsClient({ timeout: 1_000, tries: 2 });
  if (options.servers?.length) client.setServers([...options.servers]);
  return {
    source: `dns ${options.hostname}:${options.port}`,
    async resolve() {
      const addresses = await client.resolve4(options.hostname);
      return addresses.sort().map((ip) => `http://${ip}:${options.port}`);
    },
  };
}

export function resolverFor(discovery: Discovery, dnsServers?: readonly string[]): InstanceResolver {
  return discovery.kind === 'static'
    ? staticResolver(discovery.urls)
    : dnsResolver({ hostname: discovery.hostname, port: discovery.port, servers: dnsServers });
}
