import { describe, expect, it } from 'vitest';
import { chooseCompose, composeOverride, crashOverride, parseContainers, parseMemoryUsage, partName } from './container.stack.js';

describe('container mode, the parts that need no Docker', () => {
  it("reads docker stats' memory usage, binary and decimal units", () => {
    expect(parseMemoryUsage('123.4MiB / 7.6GiB')).toBe(Math.round(123.4 * 2 ** 20));
    expect(parseMemoryUsage('1.5GiB / 23.4GiB')).toBe(1.5 * 2 ** 30);
    expect(parseMemoryUsage('812KiB / 1GiB')).toBe(812 * 1_024);
    expect(parseMemoryUsage('0B / 0B')).toBe(0);
    expect(parseMemoryUsage('20MB / 1GB')).toBe(20_000_000);
    expect(() => parseMemoryUsage('--')).toThrow(/cannot read the memory usage '--'/);
  });

  it('prefers the Compose plugin, then docker-compose, else none', () => {
    expect(chooseCompose({ plugin: true, standalone: true })).toEqual(['docker', 'compose']);
    expect(chooseCompose({ plugin: false, standalone: true })).toEqual(['docker-compose']);
    expect(chooseCompose({ plugin: false, standalone: false })).toBeUndefined();
  });

  it('puts the monolith on PostgreSQL, a database per module as the services have, after the server is healthy', () => {
    const monolith = composeOverride('monolith').services.monolith as { environment: Record<string, string>; depends_on: unknown };
    expect(monolith.environment).toMatchObject({
      SEED_DEMO_DATA: 'true',
      AUTH_DATABASE_URL: 'postgres://auth:${AUTH_DB_PASSWORD:-auth-local-only}@postgres:5432/auth',
      PAYMENT_DATABASE_URL: 'postgres://payment:${PAYMENT_DB_PASSWORD:-payment-local-only}@postgres:5432/payment',
    });
    expect(Object.keys(monolith.environment).filter((k) => k.endsWith('_DATABASE_URL'))).toHaveLength(6);
    expect(monolith.depends_on).toEqual({ postgres: { condition: 'service_healthy' } });
  });

  it("raises the gateway's per-address rate limit and seeds demo data in every service", () => {
    const { services } = composeOverride('services');
    expect(services.gateway).toMatchObject({ environment: { RATE_LIMIT_PER_SECOND: '10000000', RATE_LIMIT_BURST: '10000000' } });
    for (const name of ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics']) {
      expect(services[name], name).toMatchObject({ environment: { SEED_DEMO_DATA: 'true' } });
    }
    expect(services.monolith).toBeUndefined();
  });

  it('arms the crash with no restart policy, so that nothing restarts it inside the window', () => {
    expect(crashOverride('payment')).toEqual({ services: { payment: { environment: { FAULT_INJECTION: 'crash-in-payment' }, restart: 'no' } } });
  });

  it("reads docker inspect's lines and names replicas from the second on", () => {
    const [first, second] = parseContainers('abc|webtoon|1|running|healthy|portal/webtoon:local|172.18.0.5\ndef|webtoon|2|running|starting|portal/webtoon:local|172.18.0.9\n');
    expect(first).toEqual({ id: 'abc', service: 'webtoon', number: 1, status: 'running', health: 'healthy', image: 'portal/webtoon:local', ip: '172.18.0.5' });
    expect(second && partName(second)).toBe('webtoon-2');
    expect(first && partName(first)).toBe('webtoon');
  });
});
