import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { Controller, Get, Module, UseGuards } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createLocalJWKSet, decodeProtectedHeader, jwtVerify } from 'jose';
import type { AccessToken, JwkSet, Me, Registration } from '@portal/contracts/api/auth';
import { MESSAGING_MIGRATION } from '@portal/event-bus';
import type { DomainDefinition, Host } from '@portal/host';
import { assertTooLarge, call, countRows, openApiDrift, overLimit, startTestHost } from '@portal/host/testing';
import { AuthGuard, CurrentUser, TOKEN, TOKEN_VERIFIER } from '@portal/http';
import type { AuthenticatedUser } from '@portal/http';
import { createDatabase, startPostgres, waitUntil } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { authDomain } from '../src/index.js';
import { rotateSigningKeys } from '../src/signing.keys.js';

interface ProblemBody {
  status: number;
  title: string;
  detail: string;
  instance?: string;
  requestId?: string;
  errors?: { field: string; message: string }[];
}

const uniqueEmail = (name = 'reader') => `${name}.${randomUUID().slice(0, 8)}@example.com`;

const REGISTERED = 'if this email had no account, it has one now: sign in with this email and password';

/** Registers an account; its id is read from the database, as registration does not tell it. */
async function register(host: Host, email = uniqueEmail(), password = 'a long enough password', displayName = 'Reader') {
  const res = await call<Registration>(host.url, 'POST', '/api/auth/register', { body: { email, password, displayName } });
  expect(res.status).toBe(202);
  expect(res.body).toEqual({ email, message: REGISTERED });
  const { rows } = await host.databases.get('auth')!.query<{ id: string }>('SELECT id FROM users WHERE email = $1', [email]);
  return { user: { id: rows[0]!.id }, email, password };
}

async function login(host: Host, email: string, password: string): Promise<string> {
  const res = await call<AccessToken>(host.url, 'POST', '/api/auth/login', { body: { email, password } });
  expect(res.status).toBe(200);
  return res.body.accessToken;
}

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.close();
});

describe('the auth API on PostgreSQL', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startTestHost([authDomain], { DATABASE_URL: await createDatabase(server, 'auth') });
    expect(host.databases.get('auth')?.kind).toBe('postgres');
  });
  afterAll(async () => {
    await host?.close();
  });

  it('registers, signs in and tells who the token belongs to', async () => {
    const email = uniqueEmail('Round.Trip').replace('example.com', 'Example.COM');
    const res = await call<Registration>(host.url, 'POST', '/api/auth/register', {
      body: { email, password: 'correct horse battery', displayName: '  Round Trip  ' },
    });
    expect(res.status).toBe(202);
    expect(res.body).toEqual({ email: email.toLowerCase(), message: REGISTERED });

    // Signing in works in any spelling of the email.
    const token = await call<AccessToken>(host.url, 'POST', '/api/auth/login', { body: { email: email.toUpperCase(), password: 'correct horse battery' } });
    expect(token.status).toBe(200);
    expect(token.body).toEqual({ accessToken: expect.any(String), tokenType: 'Bearer', expiresIn: 3600 });
    expect(token.headers.get('cache-control')).toBe('no-store');

    const me = await call<Me>(host.url, 'GET', '/api/auth/me', { token: token.body.accessToken });
    expect(me.status).toBe(200);
    expect(me.body).toEqual({ id: expect.any(String), email: email.toLowerCase(), displayName: 'Round Trip' });
  });

  it('stores a salted scrypt hash, never the password', async () => {
    const { user, password } = await register(host);
    const { rows } = await host.databases.get('auth')!.query<{ password_hash: string }>('SELECT password_hash FROM users WHERE id = $1', [user.id]);
    const stored = rows[0]!.password_hash;
    expect(stored).not.toContain(password);
    expect(stored).toMatch(/^scrypt\$\d+\$\d+\$\d+\$[\w-]{22}\$[\w-]+$/);
  });

  it('answers a taken email, in any spelling, exactly as a new one, and changes nothing for it', async () => {
    const db = host.databases.get('auth')!;
    const { user, email, password } = await register(host, uniqueEmail('dup'));
    const fresh = uniqueEmail('fresh');
    const ask = (address: string) =>
      call<Registration>(host.url, 'POST', '/api/auth/register', { body: { email: address, password: 'another password', displayName: 'Someone else' } });
    const before = await countRows(db, ['users', 'outbox']);
    const taken = await ask(email.toUpperCase());
    const created = await ask(fresh.toUpperCase());
    const shape = (res: typeof taken) => ({
      status: res.status,
      type: res.headers.get('content-type'),
      // The email is the one asked about, lower-cased; all else must be equal.
      body: { ...res.body, email: [email, fresh].includes(res.body.email) ? '<email>' : res.body.email },
    });
    expect(shape(taken)).toEqual(shape(created));
    expect(shape(taken)).toEqual({ status: 202, type: expect.stringContaining('application/json'), body: { email: '<email>', message: REGISTERED } });
    // One account and one event more: the new email's. The taken one keeps its password and its name.
    expect(await countRows(db, ['users', 'outbox'])).toEqual({ users: before.users! + 1, outbox: before.outbox! + 1 });
    expect((await db.query<{ n: number }>('SELECT count(*)::int AS n FROM users WHERE lower(email) = $1', [email])).rows[0]!.n).toBe(1);
    expect((await call(host.url, 'POST', '/api/auth/login', { body: { email, password: 'another password' } })).status).toBe(401);
    const me = await call<Me>(host.url, 'GET', '/api/auth/me', { token: await login(host, email, password) });
    expect(me.body).toEqual({ id: user.id, email, displayName: 'Reader' });
  });

  it('names each invalid field', async () => {
    const empty = await call<ProblemBody>(host.url, 'POST', '/api/auth/register', { body: {} });
    expect(empty.status).toBe(400);
    expect(empty.body.errors?.map((e) => e.field).sort()).toEqual(['body.displayName', 'body.email', 'body.password']);

    const bad = await call<ProblemBody>(host.url, 'POST', '/api/auth/register', {
      body: { email: 'not-an-email', password: 'short', displayName: 'x'.repeat(81) },
    });
    expect(bad.status).toBe(400);
    expect(bad.body.errors).toEqual(
      expect.arrayContaining([
        { field: 'body.email', message: 'must be an email address' },
        { field: 'body.password', message: 'must be at least 8 characters' },
        expect.objectContaining({ field: 'body.displayName' }),
      ]),
    );

    const long = await call<ProblemBody>(host.url, 'POST', '/api/auth/register', {
      body: { email: uniqueEmail(), password: 'p'.repeat(201), displayName: 'Long' },
    });
    expect(long.status).toBe(400);
    expect(long.body.errors).toEqual([{ field: 'body.password', message: 'must be at most 200 characters' }]);

    const noPassword = await call<ProblemBody>(host.url, 'POST', '/api/auth/login', { body: { email: 'a@example.com' } });
    expect(noPassword.status).toBe(400);
    expect(noPassword.body.errors?.map((e) => e.field)).toEqual(['body.password']);
  });

  it('refuses control characters with a 400 naming the field, on registration and on login, and writes nothing', async () => {
    const db = host.databases.get('auth')!;
    const before = await countRows(db, ['users', 'outbox']);
    const name = await call<ProblemBody>(host.url, 'POST', '/api/auth/register', {
      body: { email: uniqueEmail(), password: 'a long enough password', displayName: 'Null\u0000Byte' },
    });
    expect(name.status).toBe(400);
    expect(name.body.errors).toEqual([{ field: 'body.displayName', message: 'contains a control character (U+0000)' }]);
    // Login looks the email up: a NUL there reached PostgreSQL, which refuses it in text (a 500).
    const nulEmail = await call<ProblemBody>(host.url, 'POST', '/api/auth/login', { body: { email: 'a\u0000@example.com', password: 'whatever it is' } });
    expect(nulEmail.status).toBe(400);
    expect(nulEmail.body.errors).toEqual([{ field: 'body.email', message: 'contains a control character (U+0000)' }]);
    expect(await countRows(db, ['users', 'outbox'])).toEqual(before);
  });

  it('answers 413 with a problem to a registration over the body limit, and writes nothing', async () => {
    const db = host.databases.get('auth')!;
    const before = await countRows(db, ['users', 'outbox']);
    const email = uniqueEmail('oversized');
    const res = await call(host.url, 'POST', '/api/auth/register', { body: { email, password: 'a long enough password', displayName: overLimit() } });
    assertTooLarge(res);
    expect(await countRows(db, ['users', 'outbox'])).toEqual(before);
    expect((await db.query('SELECT 1 FROM users WHERE email = $1', [email])).rows).toHaveLength(0);
  });

  it('answers a wrong password and an unknown email alike', async () => {
    const { email } = await register(host);
    const wrongPassword = await call<ProblemBody>(host.url, 'POST', '/api/auth/login', { body: { email, password: 'not the password' } });
    const unknownEmail = await call<ProblemBody>(host.url, 'POST', '/api/auth/login', { body: { email: uniqueEmail('nobody'), password: 'not the password' } });
    expect(wrongPassword.status).toBe(401);
    expect(unknownEmail.status).toBe(401);
    const comparable = ({ requestId, instance, ...rest }: ProblemBody) => {
      expect(requestId).toEqual(expect.any(String));
      expect(instance).toBe('/api/auth/login');
      return rest;
    };
    expect(comparable(wrongPassword.body)).toEqual(comparable(unknownEmail.body));
    expect(comparable(wrongPassword.body)).toEqual({
      type: 'https://portal.example/problems/unauthorized',
      title: 'Unauthorized',
      status: 401,
      detail: 'email or password is wrong',
    });
    expect(wrongPassword.headers.get('www-authenticate')).toBe(unknownEmail.headers.get('www-authenticate'));
  });

  it('locks an account after five failed logins: 429 with Retry-After, the right password included; other accounts are unaffected', async () => {
    const { email, password } = await register(host);
    const other = await register(host);
    const attempts: Awaited<ReturnType<typeof call<ProblemBody>>>[] = [];
    for (let i = 0; i < 50; i += 1) attempts.push(await call<ProblemBody>(host.url, 'POST', '/api/auth/login', { body: { email, password: `wrong guess ${i}` } }));
    expect(attempts.map((r) => r.status)).toEqual([...Array<number>(5).fill(401), ...Array<number>(45).fill(429)]);
    for (const locked of attempts.slice(5)) {
      expect(locked.headers.get('content-type')).toContain('application/problem+json');
      expect(locked.body).toMatchObject({ status: 429, type: 'https://portal.example/problems/too-many-requests' });
      const retryAfter = Number(locked.headers.get('retry-after'));
      expect(retryAfter).toBeGreaterThan(0);
      expect(retryAfter).toBeLessThanOrEqual(900);
    }
    // Locked means locked: the right password, in any spelling of the email, gets no token either.
    for (const spelling of [email, email.toUpperCase()]) {
      const right = await call<ProblemBody>(host.url, 'POST', '/api/auth/login', { body: { email: spelling, password } });
      expect(right.status).toBe(429);
      expect(right.headers.get('retry-after')).toMatch(/^\d+$/);
    }
    expect(await login(host, other.email, other.password)).toEqual(expect.any(String));
  });

  it('issues tokens that verify against the published key set', async () => {
    const { user, email, password } = await register(host);
    const token = await login(host, email, password);

    const jwks = await call<JwkSet>(host.url, 'GET', '/api/auth/.well-known/jwks.json');
    expect(jwks.status).toBe(200);
    expect(jwks.body.keys.length).toBeGreaterThan(0);
    for (const key of jwks.body.keys) {
      expect(key).toMatchObject({ kty: 'OKP', crv: 'Ed25519', alg: 'EdDSA', use: 'sig', kid: expect.any(String) });
      expect(key).not.toHaveProperty('d');
    }

    const header = decodeProtectedHeader(token);
    expect(header).toEqual({ alg: 'EdDSA', kid: jwks.body.keys[0]!.kid });
    const { payload } = await jwtVerify(token, createLocalJWKSet(jwks.body), {
      issuer: TOKEN.issuer,
      audience: TOKEN.audience,
      algorithms: ['EdDSA'],
    });
    expect(payload).toMatchObject({ sub: user.id, email, iss: TOKEN.issuer, aud: TOKEN.audience });
    expect(payload.exp! - payload.iat!).toBe(3600);
    expect(Math.abs(payload.iat! - Date.now() / 1000)).toBeLessThan(60);
  });

  it('refuses /me without a valid token', async () => {
    const none = await call<ProblemBody>(host.url, 'GET', '/api/auth/me');
    expect(none.status).toBe(401);
    const { email, password } = await register(host);
    const token = await login(host, email, password);
    const [head, body, signature] = token.split('.') as [string, string, string];
    const forged = Buffer.from(JSON.stringify({ ...JSON.parse(Buffer.from(body, 'base64url').toString()), sub: randomUUID() })).toString('base64url');
    const tampered = await call<ProblemBody>(host.url, 'GET', '/api/auth/me', { token: `${head}.${forged}.${signature}` });
    expect(tampered.status).toBe(401);
    expect(tampered.body.detail).toBe('token: signature does not verify');
  });

  it('puts user.registered in the outbox once per registration, and publishes it', async () => {
    const { user, email } = await register(host, uniqueEmail('evented'), 'a long enough password', 'Evented');
    const duplicate = await call(host.url, 'POST', '/api/auth/register', { body: { email, password: 'a long enough password', displayName: 'Again' } });
    expect(duplicate.status).toBe(202);
    const invalid = await call(host.url, 'POST', '/api/auth/register', { body: { email, password: 'short', displayName: 'Again' } });
    expect(invalid.status).toBe(400);

    await host.flushOutboxes();
    const { rows } = await host.databases.get('auth')!.query<{ event: { name: string; aggregateId: string; payload: unknown; traceId: string }; published_at: Date | null }>(
      "SELECT event, published_at FROM outbox WHERE name = 'user.registered' AND event->'payload'->>'email' = $1",
      [email],
    );
    expect(rows).toHaveLength(1);
    expect(rows[0]!.event).toMatchObject({
      name: 'user.registered',
      aggregateId: user.id,
      payload: { userId: user.id, email, displayName: 'Evented' },
      traceId: expect.any(String),
    });
    expect(rows[0]!.published_at).toBeInstanceOf(Date);

    const counts = await host.databases.get('auth')!.query<{ users: number; events: number }>(
      "SELECT (SELECT count(*)::int FROM users) AS users, (SELECT count(*)::int FROM outbox WHERE name = 'user.registered') AS events",
    );
    expect(counts.rows[0]!.events).toBe(counts.rows[0]!.users);
  });

  it('keeps its OpenAPI document in step with its routes', async () => {
    expect(openApiDrift(host, authDomain)).toEqual({ undocumented: [], unserved: [] });
    const doc = (await (await fetch(`${host.url}/api/auth/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(doc.paths).sort()).toEqual(['/api/auth/.well-known/jwks.json', '/api/auth/login', '/api/auth/me', '/api/auth/register']);
  });
});

describe('login throttling on PostgreSQL, with small limits', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startTestHost([authDomain], {
      DATABASE_URL: await createDatabase(server, 'auth_throttle'),
      AUTH_LOGIN_MAX_FAILURES: '2',
      AUTH_LOGIN_ADDRESS_MAX_FAILURES: '3',
      AUTH_LOGIN_LOCK_SECONDS: '1',
    });
  });
  afterAll(async () => {
    await host?.close();
  });

  const attempt = (email: string, password: string, address: string) =>
    call<ProblemBody>(host.url, 'POST', '/api/auth/login', { body: { email, password }, headers: { 'x-forwarded-for': `198.51.100.1, ${address}` } });

  it('locks an address that fails at many accounts, for every account, and only that address', async () => {
    const { email, password } = await register(host);
    for (let i = 0; i < 3; i += 1) expect((await attempt(uniqueEmail('guess'), 'not it', '203.0.113.7')).status).toBe(401);
    const locked = await attempt(email, password, '203.0.113.7');
    expect(locked.status).toBe(429);
    expect(locked.headers.get('retry-after')).toBe('1');
    // The last hop is the address (the gateway appends the one it saw); what the client put before it is not.
    expect((await attempt(email, password, '203.0.113.8')).status).toBe(200);
  });

  it('lifts a lock when it expires', async () => {
    const { email, password } = await register(host);
    for (let i = 0; i < 2; i += 1) expect((await attempt(email, 'not it', '203.0.113.20')).status).toBe(401);
    expect((await attempt(email, password, '203.0.113.21')).status).toBe(429);
    await waitUntil('the lock to expire', 5_000, async () => {
      const res = await attempt(email, password, '203.0.113.21');
      if (res.status !== 200) throw new Error(`still ${res.status}`);
    });
  });

  it('refuses a bad limit at start-up, naming the variable', async () => {
    await expect(startTestHost([authDomain], { AUTH_LOGIN_MAX_FAILURES: '0' })).rejects.toThrow(/AUTH_LOGIN_MAX_FAILURES/);
  });
});

describe('signing keys on PostgreSQL', () => {
  it('survive a restart: a token issued before still verifies after', async () => {
    const url = await createDatabase(server, 'auth_restart');
    const first = await startTestHost([authDomain], { DATABASE_URL: url });
    let token: string;
    let keysBefore: JwkSet;
    let userId: string;
    try {
      const registered = await register(first);
      userId = registered.user.id;
      token = await login(first, registered.email, registered.password);
      keysBefore = (await call<JwkSet>(first.url, 'GET', '/api/auth/.well-known/jwks.json')).body;
    } finally {
      await first.close();
    }

    const second = await startTestHost([authDomain], { DATABASE_URL: url });
    try {
      const me = await call<Me>(second.url, 'GET', '/api/auth/me', { token });
      expect(me.status).toBe(200);
      expect(me.body.id).toBe(userId);
      const keysAfter = (await call<JwkSet>(second.url, 'GET', '/api/auth/.well-known/jwks.json')).body;
      expect(keysAfter).toEqual(keysBefore);
      await expect(jwtVerify(token, createLocalJWKSet(keysAfter), { issuer: TOKEN.issuer, audience: TOKEN.audience })).resolves.toBeDefined();
    } finally {
      await second.close();
    }
  });

  it('are made once when two replicas start together on an empty database', async () => {
    const url = await createDatabase(server, 'auth_replicas');
    const [a, b] = await Promise.all([startTestHost([authDomain], { DATABASE_URL: url }), startTestHost([authDomain], { DATABASE_URL: url })]);
    try {
      const keysA = (await call<JwkSet>(a.url, 'GET', '/api/auth/.well-known/jwks.json')).body;
      const keysB = (await call<JwkSet>(b.url, 'GET', '/api/auth/.well-known/jwks.json')).body;
      expect(keysA.keys).toHaveLength(1);
      expect(keysB).toEqual(keysA);

      // A token from one replica is accepted by the other.
      const { email, password } = await register(a);
      const token = await login(a, email, password);
      expect((await call(b.url, 'GET', '/api/auth/me', { token })).status).toBe(200);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
  it('rotate once the signing key is AUTH_SIGNING_KEY_MAX_AGE_SECONDS old, keeping the old key published for its tokens', async () => {
    const url = await createDatabase(server, 'auth_rotation');
    const [a, b] = await Promise.all([
      startTestHost([authDomain], { DATABASE_URL: url, AUTH_SIGNING_KEY_MAX_AGE_SECONDS: '1' }),
      startTestHost([authDomain], { DATABASE_URL: url, AUTH_SIGNING_KEY_MAX_AGE_SECONDS: '1' }),
    ]);
    try {
      const { email, password } = await register(a);
      const oldToken = await login(a, email, password);
      const oldKid = decodeProtectedHeader(oldToken).kid;
      const newToken = await waitUntil('a token signed with a new key', 10_000, async () => {
        const token = await login(a, email, password);
        if (decodeProtectedHeader(token).kid === oldKid) throw new Error('still the old key');
        return token;
      });
      const kids = (await call<JwkSet>(a.url, 'GET', '/api/auth/.well-known/jwks.json')).body.keys.map((k) => k.kid);
      expect(kids[0]).toBe(decodeProtectedHeader(newToken).kid);
      expect(kids).toContain(oldKid);
      // Both tokens verify, on the replica that rotated and on the other, which had loaded the keys before the new one existed.
      for (const host of [a, b]) {
        for (const token of [oldToken, newToken]) expect((await call(host.url, 'GET', '/api/auth/me', { token })).status).toBe(200);
      }

      // Keys whose successor is older than a token's lifetime (and the grace) go: every token they signed has expired.
      const db = a.databases.get('auth')!;
      await db.query("UPDATE signing_keys SET created_at = created_at - interval '3 hours'");
      const newest = await rotateSigningKeys(db, 1);
      const left = (await call<JwkSet>(a.url, 'GET', '/api/auth/.well-known/jwks.json')).body.keys.map((k) => k.kid);
      expect(left).toEqual([newest.kid, kids[0]]);
      expect(left).not.toContain(oldKid);
    } finally {
      await Promise.all([a.close(), b.close()]);
    }
  });
});

// Another domain in the same process, with one protected route: it sees auth's keys without fetching the JWKS.
@Controller('api/blog')
class WhoAmIController {
  @Get('whoami')
  @UseGuards(AuthGuard)
  whoami(@CurrentUser() user: AuthenticatedUser) {
    return user;
  }
}
const neighbour: DomainDefinition = {
  name: 'blog',
  migrations: [MESSAGING_MIGRATION],
  module: (context) => {
    @Module({ controllers: [WhoAmIController], providers: [{ provide: TOKEN_VERIFIER, useValue: context.verifier }, AuthGuard] })
    class NeighbourModule {}
    return { module: NeighbourModule };
  },
  api: { info: { title: 'neighbour', version: '0' }, routes: [{ method: 'get', path: '/api/blog/whoami', summary: 'who', auth: true, responses: { 200: { description: 'the user' } } }] },
};

describe('the auth API on an embedded database, in a monolith', () => {
  let host: Host;
  beforeAll(async () => {
    // Nothing listens there: a verifier that fetched the key set would fail.
    host = await startTestHost([authDomain, neighbour], { AUTH_JWKS_URL: 'http://127.0.0.1:9/api/auth/.well-known/jwks.json' });
  });
  afterAll(async () => {
    await host?.close();
  });

  it('registers, signs in and verifies its own tokens', async () => {
    expect(host.databases.get('auth')?.kind).toBe('embedded');
    const { user, email, password } = await register(host, uniqueEmail('embedded'), 'embedded password', 'Embedded');
    const token = await login(host, email, password);
    const me = await call<Me>(host.url, 'GET', '/api/auth/me', { token });
    expect(me.body).toEqual({ id: user.id, email, displayName: 'Embedded' });
    expect((await call(host.url, 'POST', '/api/auth/register', { body: { email: email.toUpperCase(), password, displayName: 'x' } })).status).toBe(202);
    expect(openApiDrift(host, authDomain)).toEqual({ undocumented: [], unserved: [] });
  });

  it('hands its verifier to every domain in the process', async () => {
    const { user, email, password } = await register(host, uniqueEmail('neighbour'));
    const token = await login(host, email, password);
    const whoami = await call(host.url, 'GET', '/api/blog/whoami', { token });
    expect(whoami.status).toBe(200);
    expect(whoami.body).toEqual({ userId: user.id, email });
    expect((await call(host.url, 'GET', '/api/blog/whoami', { token: token.slice(0, -4) + 'AAAA' })).status).toBe(401);
  });
});
