import { createServer } from 'node:http';
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, describe, expect, it, vi } from 'vitest';
import { SignJWT, exportJWK, generateKeyPair } from 'jose';
import { TOKEN, jwksVerifier } from './auth.js';
import { ProblemException } from './problem.js';

const USER = '0b0c6f0e-8a8e-4a53-9d1f-8f1f3c0e2a11';
const MINUTE = 60_000;
const signing = await generateKeyPair('EdDSA');
const other = await generateKeyPair('EdDSA');
const published = { keys: [{ ...(await exportJWK(signing.publicKey)), kid: 'k1', alg: 'EdDSA' }] };

const token = (kid = 'k1', key = signing.privateKey) =>
  new SignJWT({ email: 'reader@example.com' })
    .setProtectedHeader({ alg: 'EdDSA', kid })
    .setSubject(USER)
    .setIssuer(TOKEN.issuer)
    .setAudience(TOKEN.audience)
    .setIssuedAt()
    .setExpirationTime('1d')
    .sign(key);

/** The auth service's key set endpoint, which the test takes down and brings back on the same port. */
async function jwksServer(port = 0): Promise<Server> {
  const server = createServer((_req, res) => res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(published)));
  await new Promise<void>((resolve) => server.listen(port, '127.0.0.1', resolve));
  return server;
}
const stop = (server: Server) =>
  new Promise<void>((resolve) => {
    server.close(() => resolve());
    server.closeAllConnections();
  });
const statusOf = (error: unknown) => (error instanceof ProblemException ? error.status : error);

afterEach(() => {
  vi.useRealTimers();
});

describe('jwksVerifier', () => {
  it('verifies with the last good key set while the JWKS cannot be fetched, up to staleMaxMs, then answers 503; and fetches again once it can', async () => {
    let server = await jwksServer();
    const port = (server.address() as AddressInfo).port;
    // Only the clock jose reads moves; sockets and timers stay real.
    vi.useFakeTimers({ toFake: ['Date'] });
    const start = Date.now();
    const verifier = jwksVerifier(`http://127.0.0.1:${port}/jwks.json`, { staleMaxMs: 10 * MINUTE });
    try {
      expect(await verifier.verify(await token())).toEqual({ userId: USER, email: 'reader@example.com' });

      await stop(server);
      // Past the cache's age, so the verifier asks for the key set again and gets no answer.
      vi.setSystemTime(start + 2 * MINUTE);
      expect(await verifier.verify(await token())).toEqual({ userId: USER, email: 'reader@example.com' });
      // A key the last good set lacks may be a rotated one: 503, not 401 (the client should not sign in again).
      expect(statusOf(await verifier.verify(await token('k2', other.privateKey)).catch((e: unknown) => e))).toBe(503);
      // A token that does not verify with a known key is still refused.
      expect(statusOf(await verifier.verify(await token('k1', other.privateKey)).catch((e: unknown) => e))).toBe(401);

      vi.setSystemTime(start + 10 * MINUTE + 1_000);
      const late = await verifier.verify(await token()).catch((e: unknown) => e);
      expect(statusOf(late)).toBe(503);
      expect((late as ProblemException).extra.headers).toEqual({ 'retry-after': '5' });

      server = await jwksServer(port);
      vi.setSystemTime(start + 11 * MINUTE);
      expect(await verifier.verify(await token())).toEqual({ userId: USER, email: 'reader@example.com' });
    } finally {
      await stop(server);
    }
  });

  it('answers 503 when no key set was ever fetched', async () => {
    const server = await jwksServer();
    const port = (server.address() as AddressInfo).port;
    await stop(server);
    const error = await jwksVerifier(`http://127.0.0.1:${port}/jwks.json`)
      .verify(await token())
      .catch((e: unknown) => e);
    expect(statusOf(error)).toBe(503);
  });
});
