import { createServer, request as httpRequest } from 'node:http';
import type { IncomingHttpHeaders, Server } from 'node:http';
import { once } from 'node:events';
import { exportJWK, generateKeyPair, SignJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parseExposition, sampleSum } from '@portal/observability';
import type { Sample } from '@portal/observability';
import { promtoolCheckMetrics, waitUntil } from '@portal/testing';
import type { ServiceProcess } from '@portal/testing';
import { count, startGatewayProcess, startUpstream, underLoad } from './helpers.js';
import type { Echo, GatewayProcess } from './helpers.js';

const BODY_LIMIT = 2_048;
const UPSTREAM_TIMEOUT_MS = 1_000;
// Long enough that the killed instance is still out when the load ends, even on a slow machine.
const EJECT_MS = 5_000;
const USER = '0b6f8a7e-2f53-4a36-9b0e-1f2a3b4c5d6e';

// A port nothing listens on: a dead service.
const DEAD = 'http://127.0.0.1:9';

let webtoon: ServiceProcess[] = [];
let others: ServiceProcess[] = [];
let gateway: GatewayProcess;
let jwks: Server;
let jwksUrl: string;
let sign: (claims?: { exp?: number; alg?: string; wrongKey?: boolean }) => Promise<string>;

async function serveKeySet(body: unknown): Promise<{ server: Server; url: string }> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(body)));
  server.listen(0, '127.0.0.1');
  await once(server, 'listening');
  const address = server.address();
  return { server, url: `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}/api/auth/.well-known/jwks.json` };
}

const get = (path: string, headers: Record<string, string> = {}, signal?: AbortSignal) => fetch(`${gateway.url}${path}`, { headers, signal });
const echo = async (res: Response) => (await res.json()) as Echo;
const breakers = async (admin: string) =>
  Object.fromEntries(((await (await fetch(`${admin}/upstreams`)).json()) as { services: { service: string; breaker: string }[] }).services.map((s) => [s.service, s.breaker]));

interface RawAnswer {
  status: number;
  headers: IncomingHttpHeaders;
  text: string;
  /** Whether the gateway said 100 Continue (and so the body went). */
  continued: boolean;
}

/**
 * A request through node:http, which sends what fetch refuses to (Expect,
 * Connection, TE, Proxy-*). With Expect: 100-continue and a body, it sends the
 * body only after 100 Continue, as curl does.
 */
function raw(url: string, { method = 'GET', headers = {}, body }: { method?: string; headers?: Record<string, string>; body?: string } = {}): Promise<RawAnswer> {
  return new Promise((resolve, reject) => {
    let continued = false;
    const req = httpRequest(url, { method, headers, agent: false }, (res) => {
      let text = '';
      res.setEncoding('utf8');
      res.on('data', (chunk: string) => (text += chunk));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, headers: res.headers, text, continued }));
    });
    req.on('error', reject);
    if (body !== undefined && headers.expect === '100-continue') {
      req.on('continue', () => {
        continued = true;
        req.end(body);
      });
    } else req.end(body);
  });
}

beforeAll(async () => {
  // The auth service's key set, as it publishes it: EdDSA public keys by kid.
  const real = await generateKeyPair('EdDSA', { extractable: true });
  const other = await generateKeyPair('EdDSA', { extractable: true });
  const published = await serveKeySet({ keys: [{ ...(await exportJWK(real.publicKey)), kid: 'k1', alg: 'EdDSA', use: 'sig' }] });
  jwks = published.server;
  jwksUrl = published.url;
  sign = ({ exp, wrongKey } = {}) =>
    new SignJWT({ email: 'reader@example.com' })
      .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
      .setSubject(USER)
      .setIssuer('portal-auth')
      .setAudience('portal')
      .setIssuedAt()
      .setExpirationTime(exp ?? Math.floor(Date.now() / 1000) + 300)
      .sign(wrongKey ? other.privateKey : real.privateKey);

  webtoon = await Promise.all(['webtoon-a', 'webtoon-b', 'webtoon-c'].map((name) => startUpstream(name)));
  others = await Promise.all([startUpstream('news', { SLOW_MS: '3000' }), startUpstream('auth'), startUpstream('payment')]);
  const [news, auth, payment] = others as [ServiceProcess, ServiceProcess, ServiceProcess];
  gateway = await startGatewayProcess({
    WEBTOON_URLS: webtoon.map((w) => w.url).join(','),
    NEWS_URLS: news.url,
    AUTH_URLS: auth.url,
    PAYMENT_URLS: payment.url,
    ANALYTICS_URLS: DEAD,
    AUTH_JWKS_URL: published.url,
    BODY_LIMIT_BYTES: String(BODY_LIMIT),
    UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS),
    EJECT_MS: String(EJECT_MS),
    RATE_LIMIT_PER_SECOND: '100000',
    RATE_LIMIT_BURST: '100000',
    // For the start-up line that says which pipelines run outside Express.
    LOG_LEVEL: 'info',
  });
});

afterAll(async () => {
  await gateway?.stop();
  await Promise.all([...webtoon, ...others].map((p) => p.stop('SIGKILL')));
  jwks?.close();
});

describe('routing', () => {
  it('forwards each /api/<service> path unchanged to that service, and answers unknown routes with a 404 problem', async () => {
    const res = await get('/api/news/articles?limit=2');
    expect(res.status).toBe(200);
    expect(await echo(res)).toMatchObject({ instance: 'news', method: 'GET', path: '/api/news/articles?limit=2' });
    const missing = await get('/api/nothing/here');
    expect(missing.status).toBe(404);
    expect(missing.headers.get('content-type')).toBe('application/problem+json');
    expect(await missing.json()).toMatchObject({ status: 404, title: 'Not Found', detail: 'no route for GET /api/nothing/here' });
    // The edge policies' headers reach every kind of answer: proxied, and the gateway's own problems.
    for (const answer of [res, missing]) {
      expect(answer.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/);
      expect(answer.headers.get('access-control-allow-origin')).toBe('*');
      expect(answer.headers.get('access-control-expose-headers')).toBe('x-request-id,retry-after,location');
    }
  });

  it("runs every pipeline of gateway.config.yml outside express-gateway's Express dispatch, and leaves its own routes to it", async () => {
    const line = gateway
      .output()
      .split('\n')
      .find((l) => l.includes('"msg":"pipelines"'));
    expect(line, 'the start-up line listing the pipelines').toBeDefined();
    const plan = JSON.parse(line ?? '{}') as { direct: string[]; express: Record<string, string> };
    expect(plan.direct.toSorted()).toEqual(['analytics', 'auth', 'blog', 'news', 'payment', 'unknown', 'webtoon']);
    expect(plan.express).toEqual({});
    // Registered by our plugin on express-gateway's app, ahead of the catch-all pipeline.
    expect((await get('/health/live')).status).toBe(200);
    expect((await get('/health/ready')).status).toBe(200);
  });

  it('keeps a sane x-request-id, replaces a bad one, and sends it upstream and back', async () => {
    const kept = await get('/api/webtoon/series', { 'x-request-id': 'trace-42' });
    expect(kept.headers.get('x-request-id')).toBe('trace-42');
    expect((await echo(kept)).headers['x-request-id']).toBe('trace-42');
    const replaced = await get('/api/webtoon/series', { 'x-request-id': 'bad id\twith spaces' });
    const id = replaced.headers.get('x-request-id');
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect((await echo(replaced)).headers['x-request-id']).toBe(id);
  });

  it('answers a CORS preflight itself', async () => {
    const res = await fetch(`${gateway.url}/api/news/articles`, {
      method: 'OPTIONS',
      headers: { origin: 'https://portal.example', 'access-control-request-method': 'POST', 'access-control-request-headers': 'authorization,content-type' },
    });
    expect(res.status).toBe(204);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
    expect(res.headers.get('access-control-allow-headers')).toContain('authorization');
  });

  it('stops the upstream request when its client leaves', async () => {
    const news = others[0] as ServiceProcess;
    const started = Date.now();
    await expect(get('/api/news/slow-and-left', {}, AbortSignal.timeout(200))).rejects.toThrow();
    while (!news.output().includes('connection closed before the answer to /api/news/slow-and-left') && Date.now() - started < 5_000) {
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    // Before the upstream timeout would have closed it: the gateway gave up when its client did.
    expect(Date.now() - started).toBeLessThan(UPSTREAM_TIMEOUT_MS);
  });

  it('answers 504 when an instance does not answer within the upstream timeout', async () => {
    const started = Date.now();
    const res = await get('/api/news/slow');
    expect(res.status).toBe(504);
    expect(Date.now() - started).toBeLessThan(UPSTREAM_TIMEOUT_MS + 1_000);
    expect(await res.json()).toMatchObject({ status: 504, title: 'Gateway Timeout' });
  });

  it('answers 504 within the deadline to a request queued behind a connection that never frees up, and keeps the instance', async () => {
    const pooled = await startGatewayProcess({ BLOG_URLS: (webtoon[0] as ServiceProcess).url, UPSTREAM_CONNECTIONS: '1', UPSTREAM_TIMEOUT_MS: String(UPSTREAM_TIMEOUT_MS) });
    const drip = new AbortController();
    try {
      // The pool's one connection: headers at once, then a byte every 100 ms, for as long as the client reads.
      expect((await fetch(`${pooled.url}/api/blog/drip`, { signal: drip.signal })).status).toBe(200);
      const started = Date.now();
      // node:http without an agent: fetch's pool would open a spare connection that holds up the gateway's shutdown.
      const queued = await raw(`${pooled.url}/api/blog/series`);
      expect(queued.status).toBe(504);
      expect(Date.now() - started).toBeLessThan(UPSTREAM_TIMEOUT_MS + 1_000);
      expect(JSON.parse(queued.text)).toMatchObject({ status: 504, detail: `the blog service did not answer within ${UPSTREAM_TIMEOUT_MS} ms` });
      drip.abort();
      // It never reached the instance: no failure is held against it, and the next request goes through.
      await waitUntil('blog answering again', 5_000, async () => {
        const { status } = await raw(`${pooled.url}/api/blog/series`);
        if (status !== 200) throw new Error(`answered ${status}`);
      });
      const listing = (await (await fetch(`${pooled.adminUrl}/upstreams`)).json()) as { services: { service: string; breaker: string; instances: { state: string; failures: number }[] }[] };
      expect(listing.services.find((s) => s.service === 'blog')).toMatchObject({ breaker: 'closed', instances: [{ state: 'up', failures: 0 }] });
    } finally {
      drip.abort();
      await pooled.stop();
    }
  });
});

describe('request headers', () => {
  it('answers requests sent with Expect: 100-continue normally, reading their bodies, and the breaker stays closed', async () => {
    // Eight: more than the breaker's five failures, as curl and .NET clients send it.
    for (let i = 0; i < 8; i++) {
      const res = await raw(`${gateway.url}/api/webtoon/series`, { headers: { expect: '100-continue' } });
      expect(res.status, `GET ${i}`).toBe(200);
      expect((JSON.parse(res.text) as Echo).headers.expect).toBeUndefined();
    }
    for (let i = 0; i < 3; i++) {
      const body = JSON.stringify({ email: `reader-${i}@example.com` });
      const res = await raw(`${gateway.url}/api/auth/register`, {
        method: 'POST',
        headers: { expect: '100-continue', 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(body)) },
        body,
      });
      expect(res.status, `POST ${i}`).toBe(200);
      expect(res.continued).toBe(true);
      expect((JSON.parse(res.text) as Echo).bytes).toBe(Buffer.byteLength(body));
    }
    // Refused before the proxy: no 100 Continue, so the body is never sent.
    const refused = await raw(`${gateway.url}/api/news/articles`, { method: 'POST', headers: { expect: '100-continue', 'content-length': '2' }, body: '{}' });
    expect(refused.status).toBe(401);
    expect(refused.continued).toBe(false);
    expect((await get('/api/webtoon/series')).status).toBe(200);
    expect(await breakers(gateway.adminUrl)).toMatchObject({ webtoon: 'closed', auth: 'closed', news: 'closed' });
  });

  it('answers any other Expect with a 417 problem naming the header, and opens no breaker', async () => {
    for (let i = 0; i < 6; i++) {
      const res = await raw(`${gateway.url}/api/webtoon/series`, { headers: { expect: 'something-else' } });
      expect(res.status).toBe(417);
      expect(res.headers['content-type']).toBe('application/problem+json');
      expect(JSON.parse(res.text)).toMatchObject({ status: 417, detail: expect.stringMatching(/^header\.expect: "something-else"/) });
    }
    expect((await get('/api/webtoon/series')).status).toBe(200);
    expect((await breakers(gateway.adminUrl)).webtoon).toBe('closed');
  });

  it('forwards no hop-by-hop header, nor those Connection names', async () => {
    const res = await raw(`${gateway.url}/api/webtoon/series`, {
      headers: {
        connection: 'keep-alive, x-hop-secret',
        'x-hop-secret': 'for the next hop only',
        'keep-alive': 'timeout=5',
        'proxy-connection': 'keep-alive',
        'proxy-authorization': 'Basic cHJveHk6c2VjcmV0',
        te: 'trailers',
        'x-kept': 'yes',
      },
    });
    expect(res.status).toBe(200);
    const seen = (JSON.parse(res.text) as Echo).headers;
    for (const name of ['x-hop-secret', 'keep-alive', 'proxy-connection', 'proxy-authorization', 'te', 'expect']) expect(seen[name], name).toBeUndefined();
    expect(seen['x-kept']).toBe('yes');
  });
});

describe('security', () => {
  const write = (headers: Record<string, string>) =>
    fetch(`${gateway.url}/api/payment/payments`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: '{}' });

  it('rejects a write without a token, and every payment request without one, with a 401 problem', async () => {
    for (const res of [await write({}), await get('/api/payment/payments'), await fetch(`${gateway.url}/api/news/articles`, { method: 'POST', body: '{}' })]) {
      expect(res.status).toBe(401);
      expect(res.headers.get('www-authenticate')).toMatch(/^Bearer/);
      expect(await res.json()).toMatchObject({ status: 401, title: 'Unauthorized' });
    }
  });

  it('rejects expired, wrongly signed, alg "none" and malformed tokens', async () => {
    const b64 = (value: unknown) => Buffer.from(JSON.stringify(value)).toString('base64url');
    const valid = await sign();
    const [, payload] = valid.split('.');
    const cases: Record<string, string> = {
      expired: await sign({ exp: Math.floor(Date.now() / 1000) - 60 }),
      'wrongly signed': await sign({ wrongKey: true }),
      'alg none': `${b64({ alg: 'none', typ: 'JWT' })}.${payload}.`,
      'HS256 with the public key': `${b64({ alg: 'HS256', kid: 'k1' })}.${payload}.c2lnbmF0dXJl`,
      tampered: `${valid.slice(0, -4)}AAAA`,
      malformed: 'not-a-jwt',
    };
    for (const [name, token] of Object.entries(cases)) {
      const res = await write({ authorization: `Bearer ${token}` });
      expect(res.status, name).toBe(401);
      const problem = (await res.json()) as { detail: string };
      expect(problem.detail, name).toMatch(/token|authorization/);
    }
  });

  it('passes the verified user upstream in x-user-id, and never a client-sent one', async () => {
    const token = await sign();
    const paid = await echo(await write({ authorization: `Bearer ${token}`, 'x-user-id': 'someone-else' }));
    expect(paid.headers['x-user-id']).toBe(USER);
    const anonymous = await echo(await get('/api/webtoon/episodes/1', { 'x-user-id': USER }));
    expect(anonymous.headers['x-user-id']).toBeUndefined();
    const forgedCase = await echo(await get('/api/webtoon/episodes/1', { 'X-User-Id': USER }));
    expect(forgedCase.headers['x-user-id']).toBeUndefined();
  });

  it("answers 503 with Retry-After, not 401, while the auth service's keys cannot be fetched", async () => {
    const keyless = await startGatewayProcess({ WEBTOON_URLS: DEAD, PAYMENT_URLS: DEAD, AUTH_JWKS_URL: `${DEAD}/api/auth/.well-known/jwks.json` });
    try {
      const res = await fetch(`${keyless.url}/api/payment/payments`, { headers: { authorization: `Bearer ${await sign()}` } });
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toBe('5');
      expect(((await res.json()) as { detail: string }).detail).toMatch(/signing keys cannot be fetched/);
      // Without a token nothing needs the keys: still 401.
      expect((await fetch(`${keyless.url}/api/payment/payments`)).status).toBe(401);
    } finally {
      await keyless.stop();
    }
  });

  it('lets signing up and signing in through without a token', async () => {
    for (const path of ['/api/auth/register', '/api/auth/login']) {
      const res = await fetch(`${gateway.url}${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{"email":"a@b.c"}' });
      expect(res.status, path).toBe(200);
      expect((await echo(res)).headers['x-user-id']).toBeUndefined();
    }
    expect((await fetch(`${gateway.url}/api/auth/accounts`, { method: 'POST', body: '{}' })).status).toBe(401);
  });

  it('answers 413 for a body over the limit, declared or chunked', async () => {
    const big = 'x'.repeat(BODY_LIMIT + 1);
    const declared = await fetch(`${gateway.url}/api/auth/register`, { method: 'POST', headers: { 'content-type': 'text/plain' }, body: big });
    expect(declared.status).toBe(413);
    expect(await declared.json()).toMatchObject({ status: 413, title: 'Payload Too Large' });
    const chunked = await fetch(`${gateway.url}/api/auth/register`, {
      method: 'POST',
      headers: { 'content-type': 'text/plain' },
      body: new ReadableStream({
        start(controller) {
          for (let i = 0; i < 4; i++) controller.enqueue(new TextEncoder().encode(big.slice(0, 1_000)));
          controller.close();
        },
      }),
      duplex: 'half',
    } as RequestInit);
    expect(chunked.status).toBe(413);
    const fits = await fetch(`${gateway.url}/api/auth/register`, { method: 'POST', body: 'x'.repeat(BODY_LIMIT) });
    expect((await echo(fits)).bytes).toBe(BODY_LIMIT);
  });
});

describe('instances and failures', () => {
  const adminState = async () =>
    ((await (await fetch(`${gateway.adminUrl}/upstreams`)).json()) as { services: { service: string; breaker: string; instances: { url: string; state: string }[] }[] }).services;

  it('spreads load over every instance of a service', async () => {
    const seen = new Map<string, number>();
    await Promise.all(
      Array.from({ length: 10 }, async () => {
        for (let i = 0; i < 30; i++) {
          const { instance } = await echo(await get('/api/webtoon/series'));
          seen.set(instance, (seen.get(instance) ?? 0) + 1);
        }
      }),
    );
    expect([...seen.keys()].sort()).toEqual(['webtoon-a', 'webtoon-b', 'webtoon-c']);
    // Round-robin: each gets about a third of 300.
    for (const n of seen.values()) expect(n).toBeGreaterThanOrEqual(80);
  });

  it('answers 503 at once for a dead service, while the others keep answering', async () => {
    const timings: number[] = [];
    const webtoonStatuses = await underLoad(1_500, 4, async () => (await get('/api/webtoon/series')).status);
    for (let i = 0; i < 20; i++) {
      const started = performance.now();
      const res = await get('/api/analytics/activity');
      timings.push(performance.now() - started);
      expect(res.status).toBe(503);
      expect(res.headers.get('retry-after')).toMatch(/^\d+$/);
      expect(await res.json()).toMatchObject({ status: 503, title: 'Service Unavailable' });
    }
    expect(Math.max(...timings)).toBeLessThan(250);
    expect(webtoonStatuses.every((s) => s === 200)).toBe(true);
    const analytics = (await adminState()).find((s) => s.service === 'analytics');
    expect(analytics?.breaker).toBe('open');
  });

  it('ejects an instance killed under load; at most 1% of requests fail, and none once it is out', async () => {
    const victim = webtoon[1] as ServiceProcess;
    const load = underLoad(3_000, 8, async () => (await get('/api/webtoon/series')).status);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    await victim.stop('SIGKILL');
    const statuses = await load;
    const failed = count(statuses, (s) => s !== 200);
    expect(statuses.length).toBeGreaterThan(100);
    expect(failed).toBeLessThanOrEqual(Math.ceil(statuses.length * 0.01));
    const state = (await adminState()).find((s) => s.service === 'webtoon');
    // Out of rotation: ejected, or past its cool-down and being probed by live traffic (a GET that cannot connect is retried elsewhere).
    expect(state?.instances.find((i) => i.url === victim.url)?.state).toMatch(/^(ejected|probing)$/);
    expect(state?.breaker).toBe('closed');
    const after = await underLoad(500, 4, async () => (await get('/api/webtoon/series')).status);
    expect(after.every((s) => s === 200)).toBe(true);
  });

  it('takes an ejected instance back once it answers again after the cool-down', async () => {
    const victim = webtoon[1] as ServiceProcess;
    const port = new URL(victim.url).port;
    webtoon[1] = await startUpstream('webtoon-b', { PORT: port });
    await waitUntil('webtoon-b back in rotation', EJECT_MS + 5_000, async () => {
      const { instance } = await echo(await get('/api/webtoon/series'));
      const state = (await adminState()).find((s) => s.service === 'webtoon');
      if (instance !== 'webtoon-b' && state?.instances.find((i) => i.url === victim.url)?.state !== 'up') throw new Error('not yet');
    });
  });
});

describe('metrics', () => {
  const scrape = async (): Promise<{ text: string; samples: Sample[] }> => {
    const res = await fetch(gateway.metricsUrl);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/plain/);
    const text = await res.text();
    return { text, samples: parseExposition(text) };
  };

  it('serves /metrics on the internal port only: the public port answers it with a 404 problem', async () => {
    const outside = await get('/metrics');
    expect(outside.status).toBe(404);
    expect(outside.headers.get('content-type')).toBe('application/problem+json');
    expect(await outside.text()).not.toContain('portal_gateway');
    const inside = await fetch(gateway.metricsUrl);
    expect(inside.status).toBe(200);
    expect(await inside.text()).toContain('portal_gateway_requests_total');
    expect((await fetch(gateway.metricsUrl.replace(/\/metrics$/, '/upstreams'))).status).toBe(404);
  });

  it('counts requests by route, upstream, instance and status, and times them, with no ids or paths in labels', async () => {
    const before = (await scrape()).samples;
    const ids = ['0b6f8a7e-0000-4000-8000-000000000001', '0b6f8a7e-0000-4000-8000-000000000002', '0b6f8a7e-0000-4000-8000-000000000003'];
    for (const id of ids) expect((await get(`/api/webtoon/episodes/${id}`)).status).toBe(200);
    expect((await get('/api/nowhere/at-all')).status).toBe(404);
    expect((await fetch(`${gateway.url}/api/news/articles`, { method: 'POST', body: '{}' })).status).toBe(401);
    expect((await get('/api/analytics/activity')).status).toBe(503);
    const { samples } = await scrape();

    const delta = (name: string, labels: Record<string, string>) => sampleSum(samples, name, labels) - sampleSum(before, name, labels);
    const requests = 'portal_gateway_requests_total';
    expect(delta(requests, { service: 'gateway', route: 'webtoon', upstream: 'webtoon', status: '200' })).toBe(3);
    // Spread over the real instances, each its own series.
    const webtoonInstances = new Set(samples.filter((s) => s.name === requests && s.labels.route === 'webtoon' && s.labels.status === '200').map((s) => s.labels.instance));
    expect([...webtoonInstances].every((url) => webtoon.some((w) => w.url === url))).toBe(true);
    expect(delta(requests, { route: 'unknown', upstream: 'none', instance: 'none', status: '404' })).toBe(1);
    expect(delta(requests, { route: 'news', upstream: 'none', instance: 'none', status: '401' })).toBe(1);
    // Refused by the gateway for the dead service: still the analytics route's and upstream's.
    expect(delta(requests, { route: 'analytics', upstream: 'analytics', status: '503' })).toBe(1);
    expect(delta('portal_gateway_request_duration_seconds_count', { route: 'webtoon', upstream: 'webtoon', status: '200' })).toBe(3);
    expect(delta('portal_gateway_request_duration_seconds_bucket', { route: 'webtoon', upstream: 'webtoon', status: '200', le: '+Inf' })).toBe(3);

    const routes = new Set(samples.filter((s) => s.name === requests).map((s) => s.labels.route));
    expect([...routes].every((r) => ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics', 'unknown'].includes(r as string))).toBe(true);
    const values = samples.flatMap((s) => Object.values(s.labels));
    expect(values.some((v) => ids.some((id) => v.includes(id)) || v.includes('nowhere') || v.includes('/api/'))).toBe(false);
  });

  it('counts upstream errors by kind, and shows breaker states and instances by state; promtool finds no problem', { timeout: 90_000 }, async () => {
    const { text, samples } = await scrape();
    const errors = 'portal_gateway_upstream_errors_total';
    // Earlier: the dead analytics service refused connections, the slow news instance timed out, a killed webtoon instance broke.
    expect(sampleSum(samples, errors, { upstream: 'analytics', instance: DEAD, kind: 'connect' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, errors, { upstream: 'news', kind: 'timeout' })).toBeGreaterThanOrEqual(1);
    expect(sampleSum(samples, errors, { upstream: 'webtoon', instance: (webtoon[1] as ServiceProcess).url })).toBeGreaterThanOrEqual(1);
    expect(samples.filter((s) => s.name === errors).every((s) => ['connect', 'timeout', 'reset'].includes(s.labels.kind as string))).toBe(true);

    const breaker = (upstream: string) => samples.find((s) => s.name === 'portal_gateway_breaker_state' && s.labels.upstream === upstream)?.value;
    expect(breaker('analytics')).toBe(2);
    expect(breaker('webtoon')).toBe(0);
    const instances = (upstream: string, state?: string) => sampleSum(samples, 'portal_gateway_instances', { upstream, ...(state ? { state } : {}) });
    expect(instances('webtoon')).toBe(3);
    expect(instances('analytics')).toBe(1);
    const admin = (await (await fetch(`${gateway.adminUrl}/upstreams`)).json()) as { services: { service: string; instances: { state: string }[] }[] };
    const healthyWebtoon = admin.services.find((s) => s.service === 'webtoon')?.instances.filter((i) => i.state === 'up').length;
    expect(instances('webtoon', 'healthy')).toBe(healthyWebtoon);

    // Default process metrics, labelled like the rest.
    expect(samples.find((s) => s.name === 'process_resident_memory_bytes')?.labels.service).toBe('gateway');
    expect(await promtoolCheckMetrics(text)).toEqual([]);
  });
});

describe('rate limit', () => {
  it('answers 429 with Retry-After past a client\'s limit', async () => {
    const limited = await startGatewayProcess({ WEBTOON_URLS: (webtoon[0] as ServiceProcess).url, RATE_LIMIT_PER_SECOND: '1', RATE_LIMIT_BURST: '3' });
    try {
      const statuses: number[] = [];
      let last: Response | undefined;
      for (let i = 0; i < 5; i++) {
        last = await fetch(`${limited.url}/api/webtoon/series`);
        statuses.push(last.status);
      }
      expect(statuses.slice(0, 3)).toEqual([200, 200, 200]);
      expect(statuses[4]).toBe(429);
      expect(Number(last?.headers.get('retry-after'))).toBeGreaterThanOrEqual(1);
      expect(await last?.json()).toMatchObject({ status: 429, title: 'Too Many Requests' });
      // No proxy is trusted (TRUSTED_PROXY_HOPS=0): a made-up X-Forwarded-For buys no fresh budget.
      const spoofed = await fetch(`${limited.url}/api/webtoon/series`, { headers: { 'x-forwarded-for': '203.0.113.9' } });
      expect(spoofed.status).toBe(429);
    } finally {
      await limited.stop();
    }
  });

  it('behind a trusted proxy, keys on the address it saw: two clients, two budgets; a malformed header falls back to the proxy\'s', async () => {
    const behindIngress = await startGatewayProcess({
      WEBTOON_URLS: (webtoon[0] as ServiceProcess).url,
      RATE_LIMIT_PER_SECOND: '0.1',
      RATE_LIMIT_BURST: '3',
      TRUSTED_PROXY_HOPS: '1',
    });
    try {
      const from = async (forwardedFor?: string) =>
        (await fetch(`${behindIngress.url}/api/webtoon/series`, { headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } })).status;
      // What the client sent comes first; the last entry is the one the proxy added, the only one believed.
      const first = [];
      for (let i = 0; i < 4; i++) first.push(await from(`198.51.100.${i}, 203.0.113.1`));
      expect(first).toEqual([200, 200, 200, 429]);
      expect(await from('203.0.113.2')).toBe(200);
      expect(await from('2001:db8::2')).toBe(200);
      // Not an address, empty, nothing: the peer's budget (the proxy's), one for all of them.
      const malformed = [];
      for (const header of ['not-an-ip', '', ' , ,', '203.0.113.1, [::1]:80', undefined]) malformed.push(await from(header));
      expect(malformed).toEqual([200, 200, 200, 429, 429]);
    } finally {
      await behindIngress.stop();
    }
  });

  it('gives a signed-in user a budget of their own, apart from their address\'s', async () => {
    const limited = await startGatewayProcess({ WEBTOON_URLS: (webtoon[0] as ServiceProcess).url, AUTH_JWKS_URL: jwksUrl, RATE_LIMIT_PER_SECOND: '0.1', RATE_LIMIT_BURST: '3' });
    try {
      const status = async (headers: Record<string, string> = {}) => (await fetch(`${limited.url}/api/webtoon/series`, { headers })).status;
      const anonymous = [];
      for (let i = 0; i < 4; i++) anonymous.push(await status());
      expect(anonymous).toEqual([200, 200, 200, 429]);
      const token = { authorization: `Bearer ${await sign()}` };
      const signedIn = [];
      for (let i = 0; i < 4; i++) signedIn.push(await status(token));
      expect(signedIn).toEqual([200, 200, 200, 429]);
      // A bad token buys nothing: refused before the rate limit is asked.
      expect(await status({ authorization: 'Bearer not.a.token' })).toBe(401);
      expect(await status()).toBe(429);
    } finally {
      await limited.stop();
    }
  });
});
