import { describe, expect, it } from 'vitest';
import { ConfigError } from '@portal/config';
import { gatewayConfig } from './gateway.config.js';
import { RateLimiter } from './rate.limiter.js';

describe('gatewayConfig', () => {
  it('defaults every service to its local port, and reads lists and DNS names', () => {
    const config = gatewayConfig({ WEBTOON_URLS: 'http://127.0.0.1:3003, http://127.0.0.1:3013/', NEWS_DNS: 'news:3001' });
    expect(config.port).toBe(8080);
    expect(config.discovery.webtoon).toEqual({ kind: 'static', urls: ['http://127.0.0.1:3003', 'http://127.0.0.1:3013'] });
    expect(config.discovery.news).toEqual({ kind: 'dns', hostname: 'news', port: 3001 });
    expect(config.discovery.payment).toEqual({ kind: 'static', urls: ['http://127.0.0.1:3004'] });
  });

  it('names each bad variable', () => {
    const bad = () => gatewayConfig({ WEBTOON_URLS: 'ftp://x', NEWS_DNS: 'news' });
    expect(bad).toThrow(/WEBTOON_URLS: .*\(got 'ftp:\/\/x'\)/);
    expect(bad).toThrow(/NEWS_DNS: expected hostname:port/);
    expect(() => gatewayConfig({ BLOG_URLS: 'http://a:1', BLOG_DNS: 'blog:3002' })).toThrow(ConfigError);
  });
});

describe('RateLimiter', () => {
  it('lets a burst through, then one request per 1/rate, and says how long to wait', () => {
    const limiter = new RateLimiter({ perSecond: 2, burst: 2 });
    expect([limiter.take('a', 0), limiter.take('a', 0)]).toEqual([0, 0]);
    expect(limiter.take('a', 0)).toBe(500);
    expect(limiter.take('b', 0)).toBe(0);
    expect(limiter.take('a', 500)).toBe(0);
    limiter.close();
  });
});
