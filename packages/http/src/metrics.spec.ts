import 'reflect-metadata';
import { Controller, Get, Injectable, Module, Param, UseGuards } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { IdParam } from '@portal/contracts/api';
import { createLogger, createMetrics, parseExposition, sampleSum } from '@portal/observability';
import { createHttpApp } from './app.js';
import type { HttpApp } from './app.js';
import { AuthGuard, TOKEN_VERIFIER } from './auth.js';
import { directGetRoute } from './direct.js';
import { notFound } from './problem.js';

const IDS = ['2c7f1b7e-8f5a-4d4e-9a55-0d3b8f6e1a22', '3d8f2c8f-9f6b-4e5f-8b66-1e4c9f7f2b33', '4e9f3d9f-af7c-4f6f-8c77-2f5daf8f3c44'];

@Controller('api/things')
class ThingsController {
  @Get(':id/owner')
  owner(@Param('id', { schema: IdParam }) id: string) {
    if (id === IDS[2]) throw notFound('thing', id);
    return { id };
  }

  @Get('private')
  @UseGuards(AuthGuard)
  secret() {
    return { secret: true };
  }
}

@Injectable()
class Things {
  read(id: string): string {
    return `{"id":"${id}"}`;
  }
}

@Module({
  controllers: [ThingsController],
  providers: [
    Things,
    { provide: TOKEN_VERIFIER, useValue: { verify: () => Promise.reject(new Error('no')) } },
    AuthGuard,
    directGetRoute({
      path: '/api/things/:id',
      params: { id: IdParam },
      contentType: 'application/json',
      inject: [Things],
      handler: (things: Things) => (params) => things.read(params.id as string),
    }),
  ],
})
class TestModule {}

const metrics = createMetrics('things');
let http: HttpApp;

beforeAll(async () => {
  http = await createHttpApp(TestModule, { logger: createLogger('test', { write: () => undefined }), metrics });
});
afterAll(async () => {
  await http?.app.close();
});

const get = (url: string) => http.app.inject({ method: 'GET', url });
const scrape = async () => {
  const res = await get('/metrics');
  expect(res.statusCode).toBe(200);
  expect(res.headers['content-type']).toMatch(/^text\/plain; version=0\.0\.4/);
  return parseExposition(res.body);
};

describe('HTTP metrics', () => {
  it('counts requests by route template, method and status, whatever ids the paths held', async () => {
    for (const id of IDS) {
      expect((await get(`/api/things/${id}`)).statusCode).toBe(200);
      await get(`/api/things/${id}/owner`);
    }
    await get('/api/things/not-a-uuid');
    await get('/api/things/private');
    await get('/nowhere/at/all');
    await get('/nowhere/else');

    const samples = await scrape();
    const requests = (labels: Record<string, string>) => sampleSum(samples, 'portal_http_requests_total', { service: 'things', method: 'GET', ...labels });
    // The direct (off-Nest) route is counted like any other.
    expect(requests({ route: '/api/things/:id', status: '200' })).toBe(3);
    expect(requests({ route: '/api/things/:id', status: '400' })).toBe(1);
    expect(requests({ route: '/api/things/:id/owner', status: '200' })).toBe(2);
    expect(requests({ route: '/api/things/:id/owner', status: '404' })).toBe(1);
    expect(requests({ route: '/api/things/private', status: '401' })).toBe(1);
    expect(requests({ route: 'unmatched', status: '404' })).toBe(2);
    expect(sampleSum(samples, 'portal_http_request_duration_seconds_count', { route: '/api/things/:id', status: '200' })).toBe(3);
    expect(sampleSum(samples, 'portal_http_request_duration_seconds_bucket', { route: '/api/things/:id', status: '200', le: '+Inf' })).toBe(3);

    // Bounded: no label value anywhere holds an id or a raw path.
    const values = samples.flatMap((s) => Object.values(s.labels));
    for (const id of IDS) expect(values.some((v) => v.includes(id))).toBe(false);
    expect(values.some((v) => v.includes('nowhere') || v.includes('not-a-uuid'))).toBe(false);
  });

  it('serves /metrics without a token and does not count the scrape itself', async () => {
    await scrape();
    const samples = await scrape();
    expect(samples.some((s) => s.labels.route === '/metrics')).toBe(false);
    expect(http.routes).toContainEqual({ method: 'GET', url: '/metrics' });
  });
});
