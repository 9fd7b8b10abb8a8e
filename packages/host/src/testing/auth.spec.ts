import 'reflect-metadata';
import { decodeJwt } from 'jose';
import { describe, expect, it } from 'vitest';
import type { Database } from '@portal/db';
import { TOKEN } from '@portal/http';
import { startTestHost } from '../testing.js';
import { fakeAuth } from './auth.js';
import type { FakeAuth } from './auth.js';

// The stand-in keeps nothing in a database, so it is handed none.
const verifierOf = (auth: FakeAuth) => auth.domain.localVerifier!({} as Database);

describe('fakeAuth', () => {
  it('signs tokens its own verifier accepts, for the user asked or a new one', async () => {
    const auth = await fakeAuth();
    const verifier = await verifierOf(auth);
    const userId = '5a0c6e9e-1b2d-4c3e-8f4a-9b8c7d6e5f40';
    expect(await verifier.verify(await auth.token(userId))).toEqual({ userId, email: '5a0c6e9e@example.test' });
    const someone = await verifier.verify(await auth.token());
    expect(someone.userId).toMatch(/^[0-9a-f-]{36}$/);
    expect(someone.userId).not.toBe(userId);
    expect(decodeJwt(await auth.token())).toMatchObject({ iss: TOKEN.issuer, aud: TOKEN.audience });
  });

  it('refuses the tokens of another fakeAuth', async () => {
    const [auth, other] = await Promise.all([fakeAuth(), fakeAuth()]);
    const verifier = await verifierOf(auth);
    await expect(verifier.verify(await other.token())).rejects.toMatchObject({ status: 401 });
  });

  it('is hosted with no schema of its own, the host adding the outbox', async () => {
    const auth = await fakeAuth();
    const host = await startTestHost([auth.domain]);
    try {
      const { rows } = await host.databases.get('auth')!.query('SELECT count(*)::int AS n FROM outbox');
      expect(rows).toEqual([{ n: 0 }]);
      expect((await fetch(`${host.url}/api/auth/openapi.json`)).status).toBe(200);
    } finally {
      await host.close();
    }
  });
});
