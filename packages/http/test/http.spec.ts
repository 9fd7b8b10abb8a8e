import 'reflect-metadata';
import { Body, Controller, Get, Module, Param, Post, Query, UseGuards } from '@nestjs/common';
import { SignJWT, createLocalJWKSet, exportJWK, generateKeyPair, UnsecuredJWT } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { IdParam, TimeIdPageQuery } from '@portal/contracts/api';
import type { PageQuery } from '@portal/contracts/api';
import { createLogger } from '@portal/observability';
import {
  AuthGuard,
  CurrentUser,
  HealthModule,
  TOKEN,
  TOKEN_VERIFIER,
  createHttpApp,
  keySetVerifier,
  notFound,
  openApiDocument,
} from '@portal/http';
import type { AuthenticatedUser, HttpApp } from '@portal/http';

const NewThing = z.object({ title: z.string().min(1).max(10), count: z.int().min(0) });
const USER = '7b0e3c52-3f0c-4a55-9b1e-2d6f0c1a9e11';

@Controller('api/things')
class ThingsController {
  @Post()
  create(@Body({ schema: NewThing }) body: z.infer<typeof NewThing>) {
    return body;
  }

  @Get()
  list(@Query({ schema: TimeIdPageQuery }) query: PageQuery) {
    return query;
  }

  @Get('me')
  @UseGuards(AuthGuard)
  me(@CurrentUser() user: AuthenticatedUser) {
    return user;
  }

  @Get('boom')
  boom() {
    throw new Error('connection string with a password');
  }

  @Get(':id')
  get(@Param('id', { schema: IdParam }) id: string) {
    throw notFound('thing', id);
  }
}

const keys = await generateKeyPair('EdDSA', { extractable: true });
const otherKeys = await generateKeyPair('EdDSA');
const jwks = createLocalJWKSet({ keys: [{ ...(await exportJWK(keys.publicKey)), kid: 'k1', alg: 'EdDSA' }] });

function token(options: { key?: Parameters<SignJWT['sign']>[0]; expires?: string; audience?: string } = {}) {
  return new SignJWT({ email: 'reader@example.com' })
    .setProtectedHeader({ alg: 'EdDSA', kid: 'k1' })
    .setSubject(USER)
    .setIssuer(TOKEN.issuer)
    .setAudience(options.audience ?? TOKEN.audience)
    .setIssuedAt()
    .setExpirationTime(options.expires ?? '5m')
    .sign(options.key ?? keys.privateKey);
}

@Module({
  imports: [HealthModule.register({ database: async () => undefined, search: async () => Promise.reject(new Error('index down')) }, { kafka: async () => Promise.reject(new Error('broker down')) })],
  controllers: [ThingsController],
  providers: [{ provide: TOKEN_VERIFIER, useValue: keySetVerifier(jwks) }, AuthGuard],
})
class TestModule {}

const logged: Record<string, unknown>[] = [];
let http: HttpApp;

beforeAll(async () => {
  http = await createHttpApp(TestModule, {
    logger: createLogger('test', { write: (line) => logged.push(JSON.parse(line) as Record<string, unknown>) }),
    bodyLimitBytes: 1024,
  });
});
afterAll(async () => {
  await http?.app.close();
});

const inject = (options: Parameters<HttpApp['app']['inject']>[0]) => http.app.inject(options);

describe('problems for bad input', () => {
  it('names every invalid body field', async () => {
    const res = await inject({ method: 'POST', url: '/api/things', payload: { title: '', count: '3' } });
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const problem = res.json();
    expect(problem).toMatchObject({ status: 400, title: 'Invalid request', instance: '/api/things' });
    expect(problem.errors.map((e: { field: string }) => e.field)).toEqual(['body.title', 'body.count']);
    expect(problem.detail).toMatch(/^body\.title: .+; body\.count: .+/);
  });

  it('accepts a valid body', async () => {
    const res = await inject({ method: 'POST', url: '/api/things', payload: { title: 'ok', count: 2 } });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ title: 'ok', count: 2 });
  });

  it('rejects a body that is not a JSON object', async () => {
    const res = await inject({ method: 'POST', url: '/api/things', payload: '[1,2]', headers: { 'content-type': 'application/json' } });
    expect(res.statusCode).toBe(400);
    expect(res.json().detail).toBe('body: expected a JSON object');
  });

  it('rejects broken JSON, a wrong media type and an oversized body', async () => {
    const broken = await inject({ method: 'POST', url: '/api/things', payload: '{"title":', headers: { 'content-type': 'application/json' } });
    expect([broken.statusCode, broken.json().detail]).toEqual([400, 'body: not valid JSON']);

    const text = await inject({ method: 'POST', url: '/api/things', payload: 'title=x', headers: { 'content-type': 'text/plain' } });
    expect(text.statusCode).toBe(415);
    expect(text.json().detail).toMatch(/^header\.content-type/);

    const big = await inject({ method: 'POST', url: '/api/things', payload: { title: 'x'.repeat(2000), count: 1 } });
    expect(big.statusCode).toBe(413);
    expect(big.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('checks path parameters and query strings by name', async () => {
    const badId = await inject({ method: 'GET', url: '/api/things/42' });
    expect(badId.statusCode).toBe(400);
    expect(badId.json().errors).toEqual([{ field: 'param.id', message: 'must be a UUID' }]);

    const badLimit = await inject({ method: 'GET', url: '/api/things?limit=1000' });
    expect(badLimit.statusCode).toBe(400);
    expect(badLimit.json().errors[0].field).toBe('query.limit');

    const page = await inject({ method: 'GET', url: '/api/things?limit=5' });
    expect(page.json()).toEqual({ limit: 5 });
  });

  it('answers 404 for unknown ids and unknown routes', async () => {
    const id = '2c7f1b7e-8f5a-4d4e-9a55-0d3b8f6e1a22';
    const missing = await inject({ method: 'GET', url: `/api/things/${id}` });
    expect([missing.statusCode, missing.json().detail]).toEqual([404, `thing ${id} does not exist`]);

    const route = await inject({ method: 'GET', url: '/api/nothing-here' });
    expect(route.statusCode).toBe(404);
    expect(route.headers['content-type']).toMatch(/^application\/problem\+json/);
  });

  it('answers 405 with Allow to a method a served path does not take, before reading any body', async () => {
    const id = '2c7f1b7e-8f5a-4d4e-9a55-0d3b8f6e1a22';
    for (const [method, url, allow] of [
      ['DELETE', '/api/things', 'GET, HEAD, POST'],
      ['TRACE', `/api/things/${id}`, 'GET, HEAD'],
      // Fastify refuses a QUERY without a content type with a 400 before routing; the path is known, so 405.
      ['QUERY', `/api/things/${id}`, 'GET, HEAD'],
      ['PUT', '/api/things/me', 'GET, HEAD'],
    ] as const) {
      const res = await inject({ method: method as 'DELETE', url });
      expect([method, res.statusCode, res.headers.allow], url).toEqual([method, 405, allow]);
      expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
      expect(res.json()).toMatchObject({ status: 405, detail: `${method} is not allowed on ${url}; allowed: ${allow}` });
    }
    expect((await inject({ method: 'DELETE', url: '/api/nothing-here' })).statusCode).toBe(404);
  });

  it('takes a body with a __proto__ key, without the key', async () => {
    const res = await inject({
      method: 'POST',
      url: '/api/things',
      headers: { 'content-type': 'application/json' },
      payload: '{"title":"a","count":1,"__proto__":{"polluted":true},"constructor":{"prototype":{"polluted":true}}}',
    });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toEqual({ title: 'a', count: 1 });
    expect(({} as { polluted?: boolean }).polluted).toBeUndefined();
  });

  it('hides the cause of a 500 from the client and logs it with the request id', async () => {
    const res = await inject({ method: 'GET', url: '/api/things/boom', headers: { 'x-request-id': 'req-500' } });
    expect(res.statusCode).toBe(500);
    expect(res.body).not.toContain('password');
    expect(res.json().requestId).toBe('req-500');
    expect(logged.find((l) => l.msg === 'request failed')).toMatchObject({ requestId: 'req-500', level: 'error' });
  });
});

describe('request ids', () => {
  it('keeps a well-formed id from the caller and makes one otherwise', async () => {
    const kept = await inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'gw-123' } });
    expect(kept.headers['x-request-id']).toBe('gw-123');
    const clientChosen = await inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'client/7@x+y=' } });
    expect(clientChosen.headers['x-request-id']).toBe('client/7@x+y=');
    const made = await inject({ method: 'GET', url: '/health/live', headers: { 'x-request-id': 'bad id with spaces' } });
    expect(made.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});

describe('bearer tokens', () => {
  const me = (authorization?: string) =>
    inject({ method: 'GET', url: '/api/things/me', headers: authorization ? { authorization } : {} });

  it('lets a valid token through as the current user', async () => {
    const res = await me(`Bearer ${await token()}`);
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({ userId: USER, email: 'reader@example.com' });
  });

  it.each([
    ['missing', async () => undefined, /^header\.authorization: sign in/],
    ['not a bearer token', async () => 'Basic dXNlcjpwYXNz', /^header\.authorization: expected/],
    ['expired', async () => `Bearer ${await token({ expires: '-1m' })}`, /^token: expired/],
    ['signed with another key', async () => `Bearer ${await token({ key: otherKeys.privateKey })}`, /^token: signature does not verify/],
    ['for another audience', async () => `Bearer ${await token({ audience: 'elsewhere' })}`, /^token: claim 'aud'/],
    ['unsigned (alg none)', async () => `Bearer ${new UnsecuredJWT({ email: 'x@y.z' }).setSubject(USER).setIssuer(TOKEN.issuer).setAudience(TOKEN.audience).setExpirationTime('5m').encode()}`, /^token: /],
  ])('rejects a token that is %s with 401', async (_, header, detail) => {
    const res = await me(await header());
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toBe('Bearer');
    expect(res.json().detail).toMatch(detail);
  });
});

describe('health', () => {
  it('answers liveness cheaply and readiness per dependency; an optional one is reported and decides nothing', async () => {
    expect((await inject({ method: 'GET', url: '/health/live' })).json()).toEqual({ status: 'ok' });
    const ready = await inject({ method: 'GET', url: '/health/ready' });
    expect(ready.statusCode).toBe(503);
    expect(ready.json()).toEqual({ status: 'unavailable', checks: { database: 'ok', search: 'index down' }, optional: { kafka: 'broker down' } });
  });

  it('is ready, degraded, while only an optional dependency is down', async () => {
    @Module({ imports: [HealthModule.register({ database: async () => undefined }, { kafka: async () => Promise.reject(new Error('broker down')) })] })
    class DegradedModule {}
    const degraded = await createHttpApp(DegradedModule, { logger: createLogger('test', { level: 'error' }) });
    try {
      const ready = await degraded.app.inject({ method: 'GET', url: '/health/ready' });
      expect(ready.statusCode).toBe(200);
      expect(ready.json()).toEqual({ status: 'degraded', checks: { database: 'ok' }, optional: { kafka: 'broker down' } });
    } finally {
      await degraded.app.close();
    }
  });
});

describe('openApiDocument', () => {
  it('describes routes from the validating schemas, with problem responses', () => {
    const doc = openApiDocument({ title: 'things', version: '1' }, [
      { method: 'post', path: '/api/things', summary: 'make', auth: true, body: NewThing, responses: { 201: { description: 'made', schema: NewThing } } },
      { method: 'get', path: '/api/things/{id}', summary: 'one', params: z.object({ id: IdParam }), responses: { 200: { description: 'it' } } },
    ]) as { paths: Record<string, Record<string, { parameters: { name: string; in: string }[]; responses: Record<string, unknown>; requestBody?: unknown }>> };
    expect(Object.keys(doc.paths)).toEqual(['/api/things', '/api/things/{id}']);
    const responses = doc.paths['/api/things']?.post?.responses ?? {};
    expect(Object.keys(responses).sort()).toEqual(['201', '400', '401', '413', '415', '503']);
    // Every error answers a problem document with every field it carries, requestId included.
    for (const status of ['400', '401', '413', '415', '503']) {
      expect(responses[status], status).toMatchObject({
        content: { 'application/problem+json': { schema: { properties: { requestId: { type: 'string' }, errors: { type: 'array' } } } } },
      });
    }
    expect(Object.keys(doc.paths['/api/things/{id}']?.get?.responses ?? {}).sort()).toEqual(['200', '400', '404', '503']);
    expect(doc.paths['/api/things']?.post?.requestBody).toMatchObject({ content: { 'application/json': { schema: { required: ['title', 'count'] } } } });
    // What the validation pipe refuses in any request string, the documents rule out too; answers are not constrained.
    const title = (doc.paths['/api/things']?.post?.requestBody as { content: Record<string, { schema: { properties: Record<string, { pattern?: string }> } }> })
      .content['application/json']?.schema.properties.title;
    expect(new RegExp(title?.pattern ?? '').test('a\tb\nc')).toBe(true);
    expect(new RegExp(title?.pattern ?? '').test('a\u0000b')).toBe(false);
    expect(responses['201']).toMatchObject({ content: { 'application/json': { schema: { properties: { title: { type: 'string' } } } } } });
    expect((responses['201'] as { content: Record<string, { schema: { properties: { title: object } } }> }).content['application/json']?.schema.properties.title).not.toHaveProperty('pattern');
    expect(doc.paths['/api/things/{id}']?.get?.parameters).toEqual([expect.objectContaining({ name: 'id', in: 'path' })]);
  });

  it('knows the routes the server registered', () => {
    expect(http.routes).toEqual(expect.arrayContaining([{ method: 'POST', url: '/api/things' }, { method: 'GET', url: '/api/things/:id' }]));
  });
});
