import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { once } from 'node:events';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '@portal/observability';
import { forward } from './proxy.policy.js';
import { UpstreamService } from './upstream.pool.js';

const quiet = createLogger('test', { write: () => undefined });
const options = { connections: 2, connectTimeoutMs: 500, ejectMs: 5_000, ejectAfter5xx: 1, breakerFailures: 1, breakerOpenMs: 60_000 };
const servers: Server[] = [];
const services: UpstreamService[] = [];
afterEach(async () => {
  await Promise.all(services.splice(0).map((s) => s.close()));
  await Promise.all(servers.splice(0).map((s) => new Promise((resolve) => s.close(resolve))));
});

async function listen(server: Server): Promise<string> {
  servers.push(server);
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

/** A real upstream answering 200, and a server in front that hands each request to forward(), after `tamper` has had its way with it. */
async function proxyTo(urls: { current: string[] }, tamper: (headers: NodeJS.Dict<string | string[]>) => void = () => undefined) {
  const service = new UpstreamService('webtoon', { source: 'test', resolve: async () => urls.current }, options, quiet);
  services.push(service);
  await service.refresh();
  const url = await listen(
    createServer((req, res) => {
      tamper(req.headers);
      forward(req, res, service, { timeoutMs: 1_000, logger: quiet });
    }),
  );
  return { service, url };
}

const upstream = () => listen(createServer((_req, res) => res.writeHead(200, { 'content-type': 'text/plain' }).end('upstream')));

describe('forward', () => {
  it('answers a header undici refuses with a 400 problem naming it, and holds nothing against the instance or the service', async () => {
    // Node's parser lets no such value through today; a policy, or a laxer parser, could.
    const { service, url } = await proxyTo({ current: [await upstream()] }, (headers) => {
      if (headers['x-tamper'] !== undefined) headers['x-note'] = 'line\nbreak';
    });
    for (let i = 0; i < 3; i++) {
      const res = await fetch(`${url}/api/webtoon/series`, { headers: { 'x-tamper': '1' } });
      expect(res.status).toBe(400);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 400, detail: expect.stringMatching(/^header\.x-note: /) });
    }
    // One failure would have opened this breaker (breakerFailures: 1) and ejected the instance.
    expect(service.snapshot()).toMatchObject({ breaker: 'closed', instances: [{ state: 'up', failures: 0 }] });
    expect(await (await fetch(`${url}/api/webtoon/series`)).text()).toBe('upstream');
    // Refused as the half-open breaker's one trial, it hands the trial on: the next request is let through, and closes it.
    service.breaker.open(Date.now() - options.breakerOpenMs);
    expect((await fetch(`${url}/api/webtoon/series`, { headers: { 'x-tamper': '1' } })).status).toBe(400);
    expect(await (await fetch(`${url}/api/webtoon/series`)).text()).toBe('upstream');
    expect(service.breaker.state).toBe('closed');
  });

  it('answers 503 while discovery knows no instance, without opening the breaker, and routes to the first one it finds', async () => {
    const urls = { current: [] as string[] };
    const { service, url } = await proxyTo(urls);
    const none = await fetch(`${url}/api/webtoon/series`);
    expect(none.status).toBe(503);
    expect(none.headers.get('retry-after')).toBe('1');
    expect(await none.json()).toMatchObject({ detail: 'no instance of the webtoon service is known' });
    expect(service.breaker.state).toBe('closed');
    urls.current = [await upstream()];
    await service.refresh();
    // breakerOpenMs is a minute: an opened breaker would still answer 503 here.
    expect((await fetch(`${url}/api/webtoon/series`)).status).toBe(200);
  });
});
