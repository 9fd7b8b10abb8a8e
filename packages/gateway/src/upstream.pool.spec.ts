import { describe, expect, it } from 'vitest';
import { createLogger } from '@portal/observability';
import { CircuitBreaker } from './circuit.breaker.js';
import { staticResolver } from './discovery.resolver.js';
import { UpstreamService } from './upstream.pool.js';

const quiet = createLogger('test', { write: () => undefined });
const options = { connections: 1, connectTimeoutMs: 100, ejectMs: 1_000, ejectAfter5xx: 2, breakerFailures: 3, breakerOpenMs: 500 };

async function service(urls: string[]) {
  const s = new UpstreamService('webtoon', staticResolver(urls), options, quiet);
  await s.refresh();
  return s;
}

describe('UpstreamService', () => {
  it('goes round-robin over the instances in rotation', async () => {
    const s = await service(['http://a:1', 'http://b:1', 'http://c:1']);
    expect(Array.from({ length: 6 }, () => s.pick()?.url)).toEqual(['http://a:1', 'http://b:1', 'http://c:1', 'http://a:1', 'http://b:1', 'http://c:1']);
    await s.close();
  });

  it('ejects an unreachable instance for the cool-down, then probes it with live traffic', async () => {
    const s = await service(['http://a:1', 'http://b:1']);
    const a = s.pick(undefined, 0);
    s.failed(a!, 'ECONNREFUSED');
    const now = Date.now();
    expect([s.pick(undefined, now)?.url, s.pick(undefined, now)?.url]).toEqual(['http://b:1', 'http://b:1']);
    const later = now + options.ejectMs + 1;
    const picks = [s.pick(undefined, later)?.url, s.pick(undefined, later)?.url];
    expect(picks).toContain('http://a:1');
    s.answered(a!, 200);
    expect(s.snapshot().instances.map((i) => i.state)).toEqual(['up', 'up']);
    await s.close();
  });

  it('ejects after consecutive 502-504 answers, but not for a 500', async () => {
    const s = await service(['http://a:1']);
    const a = s.pick()!;
    s.answered(a, 500);
    s.answered(a, 500);
    s.answered(a, 500);
    expect(s.snapshot().instances[0]?.state).toBe('up');
    s.answered(a, 503);
    s.answered(a, 503);
    expect(s.snapshot().instances[0]?.state).toBe('ejected');
    expect(s.pick()).toBeUndefined();
    await s.close();
  });

  it('follows discovery: new instances join, vanished ones leave', async () => {
    let urls = ['http://a:1'];
    const s = new UpstreamService('news', { source: 'test', resolve: async () => urls }, options, quiet);
    await s.refresh();
    urls = ['http://b:1', 'http://c:1'];
    await s.refresh();
    expect(s.snapshot().instances.map((i) => i.url)).toEqual(['http://b:1', 'http://c:1']);
    await s.close();
  });
});

describe('CircuitBreaker', () => {
  it('opens after consecutive failures, lets one trial through when the time is up, and closes on its success', () => {
    const breaker = new CircuitBreaker({ failures: 2, openMs: 1_000 });
    breaker.failure(0);
    expect(breaker.allow(0)).toBe(true);
    breaker.failure(0);
    expect(breaker.state).toBe('open');
    expect(breaker.allow(999)).toBe(false);
    expect(breaker.allow(1_000)).toBe(true);
    expect(breaker.allow(1_000)).toBe(false);
    breaker.success();
    expect(breaker.state).toBe('closed');
  });

  it('opens again when the trial fails', () => {
    const breaker = new CircuitBreaker({ failures: 5, openMs: 100 });
    breaker.open(0);
    expect(breaker.allow(100)).toBe(true);
    breaker.failure(100);
    expect(breaker.state).toBe('open');
    expect(breaker.retryAfterMs(100)).toBe(100);
  });

  it('hands the half-open trial on when it ends saying nothing about the service', () => {
    const breaker = new CircuitBreaker({ failures: 1, openMs: 100 });
    breaker.open(0);
    expect(breaker.allow(100)).toBe(true);
    expect(breaker.allow(100)).toBe(false);
    breaker.abandonTrial();
    expect(breaker.state).toBe('half-open');
    expect(breaker.allow(100)).toBe(true);
    breaker.success();
    expect(breaker.state).toBe('closed');
    // Closed, it changes nothing.
    breaker.abandonTrial();
    expect(breaker.allow(100)).toBe(true);
  });
});
