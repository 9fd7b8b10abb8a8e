import { createServer } from 'node:http';
import type { Server } from 'node:http';
import { afterEach, describe, expect, it } from 'vitest';
import type { IncomingMessage } from 'node:http';
import { clientAddress, corsPolicy } from './edge.policies.js';
import type { Middleware } from './edge.policies.js';

let server: Server | undefined;
afterEach(() => new Promise<void>((resolve) => (server ? server.close(() => resolve()) : resolve())));

/** `policy` in front of an upstream that answers 200 "passed". */
async function behind(policy: Middleware): Promise<string> {
  server = createServer((req, res) => policy(req, res, () => res.writeHead(200).end('passed')));
  await new Promise<void>((resolve) => server?.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  return `http://127.0.0.1:${typeof address === 'object' && address ? address.port : 0}`;
}

describe('corsPolicy', () => {
  it('lets allowed origins and requests without an Origin through, with the CORS headers for the former', async () => {
    const url = await behind(corsPolicy(['https://portal.example', 'https://admin.portal.example']));
    const allowed = await fetch(url, { headers: { origin: 'https://admin.portal.example' } });
    expect(allowed.status).toBe(200);
    expect(allowed.headers.get('access-control-allow-origin')).toBe('https://admin.portal.example');
    expect(allowed.headers.get('access-control-expose-headers')).toContain('x-request-id');
    const noOrigin = await fetch(url);
    expect(await noOrigin.text()).toBe('passed');
    const preflight = await fetch(url, { method: 'OPTIONS', headers: { origin: 'https://portal.example', 'access-control-request-method': 'POST' } });
    expect(preflight.status).toBe(204);
    expect(preflight.headers.get('access-control-allow-origin')).toBe('https://portal.example');
    expect(preflight.headers.get('access-control-allow-methods')).toBe('GET,HEAD,POST,PUT,PATCH,DELETE');
    expect(preflight.headers.get('access-control-allow-headers')).toBe('authorization,content-type,idempotency-key,x-request-id');
    expect(preflight.headers.get('access-control-max-age')).toBe('600');
    expect(preflight.headers.get('vary')).toBe('Origin');
    expect(await preflight.text()).toBe('');
  });

  it('refuses another origin with a 403 problem naming the header, preflight or not', async () => {
    const url = await behind(corsPolicy(['https://portal.example']));
    for (const method of ['POST', 'OPTIONS']) {
      const res = await fetch(url, { method, headers: { origin: 'https://evil.example', 'access-control-request-method': 'POST' } });
      expect(res.status, method).toBe(403);
      expect(res.headers.get('content-type')).toBe('application/problem+json');
      expect(await res.json()).toMatchObject({ status: 403, title: 'Forbidden', detail: expect.stringMatching(/^header\.origin: "https:\/\/evil\.example" may not call this API/) });
    }
  });

  it('allows every origin with "*"', async () => {
    const url = await behind(corsPolicy('*'));
    const res = await fetch(url, { headers: { origin: 'https://anywhere.example' } });
    expect(res.status).toBe(200);
    expect(res.headers.get('access-control-allow-origin')).toBe('*');
  });
});

describe('clientAddress', () => {
  const from = (forwardedFor: string | undefined, peer = '10.1.2.3') =>
    ({ socket: { remoteAddress: peer }, headers: forwardedFor === undefined ? {} : { 'x-forwarded-for': forwardedFor } }) as unknown as IncomingMessage;

  it('is the TCP peer when no proxy is trusted, whatever X-Forwarded-For says', () => {
    expect(clientAddress(from('203.0.113.1'), 0)).toBe('10.1.2.3');
  });

  it('counts trusted hops from the right: what the client wrote left of them is never believed', () => {
    expect(clientAddress(from('198.51.100.7, 203.0.113.1'), 1)).toBe('203.0.113.1');
    expect(clientAddress(from('198.51.100.7, 203.0.113.1, 10.0.0.9'), 2)).toBe('203.0.113.1');
    expect(clientAddress(from('2001:db8::1'), 1)).toBe('2001:db8::1');
  });

  it('falls back to the peer for a header that is missing, too short or not an address', () => {
    for (const header of [undefined, '', ' , ', 'unknown', '203.0.113.1:4711', '[2001:db8::1]:80', '203.0.113.1 203.0.113.2']) {
      expect(clientAddress(from(header), 1), String(header)).toBe('10.1.2.3');
    }
    expect(clientAddress(from('203.0.113.1'), 2)).toBe('10.1.2.3');
  });
});
