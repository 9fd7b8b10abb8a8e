import { EventEmitter } from 'node:events';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { describe, expect, it } from 'vitest';
import { createMetrics, parseExposition, sampleSum } from '@portal/observability';
import { GatewayMetrics, ROUTED_INSTANCE, ROUTED_UPSTREAM } from './gateway.metrics.js';
import type { Instance, UpstreamService } from './upstream.pool.js';

function exchange(status: number, sent: boolean) {
  const req = {} as IncomingMessage & Record<symbol, unknown>;
  const res = Object.assign(new EventEmitter(), { statusCode: status, headersSent: sent }) as unknown as ServerResponse;
  return { req, res };
}

describe('GatewayMetrics', () => {
  const webtoon = {
    name: 'webtoon',
    snapshot: () => ({
      service: 'webtoon',
      source: 'static',
      breaker: 'half-open',
      instances: [
        { url: 'http://a:3003', state: 'up', requests: 0, failures: 0 },
        { url: 'http://b:3003', state: 'ejected', requests: 0, failures: 1 },
        { url: 'http://c:3003', state: 'probing', requests: 0, failures: 1 },
      ],
    }),
  } as unknown as UpstreamService;
  const instance = { url: 'http://a:3003' } as Instance;

  it('counts each answer under its route, upstream, instance and status; 499 for a client that left before any answer', async () => {
    const metrics = createMetrics('gateway');
    const gateway = new GatewayMetrics(metrics, new Map([['webtoon', webtoon]]));
    const measure = gateway.measure('webtoon');
    for (const [status, sent, routed] of [[200, true, true], [200, true, true], [401, true, false], [200, false, true]] as const) {
      const { req, res } = exchange(status, sent);
      measure(req, res);
      if (routed) Object.assign(req, { [ROUTED_UPSTREAM]: webtoon, [ROUTED_INSTANCE]: instance });
      res.emit('close');
    }
    gateway.upstreamError(webtoon, instance, 'timeout');
    const samples = parseExposition((await metrics.exposition()).text);
    const requests = (labels: Record<string, string>) => sampleSum(samples, 'portal_gateway_requests_total', { service: 'gateway', route: 'webtoon', ...labels });
    expect(requests({ upstream: 'webtoon', instance: 'http://a:3003', status: '200' })).toBe(2);
    expect(requests({ upstream: 'none', instance: 'none', status: '401' })).toBe(1);
    expect(requests({ upstream: 'webtoon', instance: 'http://a:3003', status: '499' })).toBe(1);
    expect(sampleSum(samples, 'portal_gateway_request_duration_seconds_count', { route: 'webtoon', upstream: 'webtoon', status: '200' })).toBe(2);
    expect(sampleSum(samples, 'portal_gateway_upstream_errors_total', { upstream: 'webtoon', instance: 'http://a:3003', kind: 'timeout' })).toBe(1);
  });

  it('reads breaker states and instances by state from the services when sampled', async () => {
    const metrics = createMetrics('gateway');
    const gateway = new GatewayMetrics(metrics, new Map([['webtoon', webtoon]]));
    gateway.sample();
    const samples = parseExposition((await metrics.exposition()).text);
    expect(sampleSum(samples, 'portal_gateway_breaker_state', { upstream: 'webtoon' })).toBe(1);
    for (const state of ['healthy', 'ejected', 'probing']) expect(sampleSum(samples, 'portal_gateway_instances', { upstream: 'webtoon', state })).toBe(1);
  });
});
