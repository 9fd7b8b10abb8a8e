import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { waitUntil } from '@portal/testing';
import type { ServiceProcess } from '@portal/testing';
import { startDnsServer } from './fixtures/dns.server.js';
import { startGatewayProcess, startUpstream } from './helpers.js';
import type { Echo, GatewayProcess } from './helpers.js';

// Instances on distinct loopback addresses and one port, as containers or pods
// behind one DNS name are: an A record carries an address, not a port.
const NAME = 'webtoon.portal.test';
const INTERVAL_MS = 200;
/** The stated bound for a change in DNS to show in routing. */
const JOIN_WITHIN_MS = 2_000;

const records = new Map<string, string[]>();
let dns: Awaited<ReturnType<typeof startDnsServer>>;
let gateway: GatewayProcess;
const instances: ServiceProcess[] = [];
let port = 0;

async function freePort(): Promise<number> {
  const server = createServer().listen(0, '127.0.0.2');
  await new Promise((resolve) => server.once('listening', resolve));
  const address = server.address();
  await new Promise((resolve) => server.close(resolve));
  return typeof address === 'object' && address ? address.port : 0;
}

const instanceSeen = async () => ((await (await fetch(`${gateway.url}/api/webtoon/series`)).json()) as Echo).instance;

async function seenWithin(ms: number, wanted: (seen: Set<string>) => boolean): Promise<Set<string>> {
  return waitUntil('routing follows DNS', ms, async () => {
    const seen = new Set<string>();
    for (let i = 0; i < 12; i++) seen.add(await instanceSeen());
    if (!wanted(seen)) throw new Error(`saw ${[...seen].join(', ')}`);
    return seen;
  });
}

beforeAll(async () => {
  dns = await startDnsServer(records);
  port = await freePort();
  instances.push(await startUpstream('dns-a', { HOST: '127.0.0.2', PORT: String(port) }));
  records.set(NAME, ['127.0.0.2']);
  gateway = await startGatewayProcess({ WEBTOON_DNS: `${NAME}:${port}`, DNS_SERVERS: dns.address, DISCOVERY_INTERVAL_MS: String(INTERVAL_MS) });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all(instances.map((p) => p.stop('SIGKILL')));
  await dns?.close();
});

describe('DNS discovery', () => {
  it('routes to the instances a name resolves to, follows them as they join and leave, without a restart', async () => {
    expect(await seenWithin(1_000, (seen) => seen.size === 1 && seen.has('dns-a'))).toEqual(new Set(['dns-a']));

    instances.push(await startUpstream('dns-b', { HOST: '127.0.0.3', PORT: String(port) }));
    const joined = Date.now();
    records.set(NAME, ['127.0.0.2', '127.0.0.3']);
    await seenWithin(JOIN_WITHIN_MS, (seen) => seen.has('dns-a') && seen.has('dns-b'));
    expect(Date.now() - joined).toBeLessThan(JOIN_WITHIN_MS);

    records.set(NAME, ['127.0.0.3']);
    await seenWithin(JOIN_WITHIN_MS, (seen) => seen.size === 1 && seen.has('dns-b'));
    const listing = (await (await fetch(`${gateway.adminUrl}/upstreams`)).json()) as { services: { service: string; source: string; instances: { url: string }[] }[] };
    expect(listing.services.find((s) => s.service === 'webtoon')).toMatchObject({
      source: `dns ${NAME}:${port}`,
      instances: [{ url: `http://127.0.0.3:${port}` }],
    });
  });

  it('keeps the last instances when DNS fails', async () => {
    await dns.close();
    await new Promise((resolve) => setTimeout(resolve, INTERVAL_MS * 3));
    expect(await instanceSeen()).toBe('dns-b');
  });
});
