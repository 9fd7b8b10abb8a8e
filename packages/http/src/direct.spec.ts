import 'reflect-metadata';
import { Injectable, Module } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdParam } from '@portal/contracts/api';
import { createLogger } from '@portal/observability';
import { createHttpApp } from './app.js';
import type { HttpApp } from './app.js';
import { directGetRoute } from './direct.js';
import { notFound, unauthorized } from './problem.js';

const KNOWN = '2c7f1b7e-8f5a-4d4e-9a55-0d3b8f6e1a22';

/** Answers at once, later (a promise), or refuses either way, by the authorization header. */
@Injectable()
class Things {
  read(id: string, authorization: string | undefined): string | Promise<string> {
    if (id !== KNOWN) throw notFound('thing', id);
    if (authorization === 'later') return Promise.resolve(`{"id":"${id}","later":true}`);
    if (authorization === 'refused later') return Promise.reject(unauthorized('token: expired'));
    if (authorization === 'boom') throw new Error('connection string with a password');
    return `{"id":"${id}"}`;
  }
}

@Module({
  providers: [
    Things,
    directGetRoute({
      path: '/api/things/:id',
      params: { id: IdParam },
      contentType: 'application/json; charset=utf-8',
      inject: [Things],
      handler: (things: Things) => (params, headers) => things.read(params.id as string, headers.authorization),
    }),
  ],
})
class TestModule {}

const logged: Record<string, unknown>[] = [];
let http: HttpApp;

beforeAll(async () => {
  http = await createHttpApp(TestModule, { logger: createLogger('test', { write: (line) => logged.push(JSON.parse(line) as Record<string, unknown>) }) });
});
afterAll(async () => {
  await http?.app.close();
});

const get = (url: string, headers: Record<string, string> = {}) => http.app.inject({ method: 'GET', url, headers });

describe('a direct GET route', () => {
  it('answers with the body as it is, its content type and the request id', async () => {
    const res = await get(`/api/things/${KNOWN}`, { 'x-request-id': 'gw-1' });
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe('application/json; charset=utf-8');
    expect(res.headers['x-request-id']).toBe('gw-1');
    expect(res.body).toBe(`{"id":"${KNOWN}"}`);
    const later = await get(`/api/things/${KNOWN}`, { authorization: 'later' });
    expect([later.statusCode, later.headers['content-type'], later.json()]).toEqual([200, 'application/json; charset=utf-8', { id: KNOWN, later: true }]);
  });

  it('checks path parameters like @Param, naming the field', async () => {
    const res = await get('/api/things/42');
    expect(res.statusCode).toBe(400);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(res.json()).toMatchObject({ status: 400, title: 'Invalid request', errors: [{ field: 'param.id', message: 'must be a UUID' }] });
  });

  it('answers problems for what the handler throws or rejects, through the same filter as controllers', async () => {
    const id = '7b0e3c52-3f0c-4a55-9b1e-2d6f0c1a9e11';
    const missing = await get(`/api/things/${id}`, { 'x-request-id': 'gw-2' });
    expect(missing.statusCode).toBe(404);
    expect(missing.headers['content-type']).toMatch(/^application\/problem\+json/);
    expect(missing.json()).toMatchObject({ detail: `thing ${id} does not exist`, instance: `/api/things/${id}`, requestId: 'gw-2' });

    const refused = await get(`/api/things/${KNOWN}`, { authorization: 'refused later' });
    expect([refused.statusCode, refused.headers['www-authenticate'], refused.json().detail]).toEqual([401, 'Bearer', 'token: expired']);

    const boom = await get(`/api/things/${KNOWN}`, { authorization: 'boom', 'x-request-id': 'gw-500' });
    expect(boom.statusCode).toBe(500);
    expect(boom.body).not.toContain('password');
    expect(logged.find((l) => l.msg === 'request failed')).toMatchObject({ requestId: 'gw-500', level: 'error' });
  });

  it('treats an empty parameter as no route, as Nest does for its routes', async () => {
    const res = await get('/api/things/');
    expect(res.statusCode).toBe(404);
    expect(res.json().detail).toBe('No route for GET /api/things/');
  });

  it('is in the list of routes the server answers', () => {
    expect(http.routes).toContainEqual({ method: 'GET', url: '/api/things/:id' });
  });
});
