import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, promtoolCheckMetrics, startPostgres, startProcess } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { entry } from './paths.js';

const SERVICES = ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'] as const;

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.close();
});

describe.each(SERVICES)('the %s service', (name) => {
  it('starts alone against its own database, answers, and stops cleanly on SIGTERM', async () => {
    const databaseUrl = await createDatabase(server, name);
    const service = await startProcess(entry(name), {
      env: { PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'true' },
    });
    try {
      const ready = await fetch(`${service.url}/health/ready`);
      expect(ready.status).toBe(200);
      expect(await ready.json()).toEqual({ status: 'ok', checks: { [`${name}-database`]: 'ok' } });

      const openapi = await fetch(`${service.url}/api/${name}/openapi.json`);
      expect(openapi.status).toBe(200);
      expect(((await openapi.json()) as { info: { title: string } }).info.title).toMatch(new RegExp(name, 'i'));

      // Only its own module: another domain's routes are not here.
      const other = SERVICES.find((s) => s !== name);
      expect((await fetch(`${service.url}/api/${other}/openapi.json`)).status).toBe(404);

      // Its metrics, labelled with its name, in a text promtool finds nothing wrong with.
      const metrics = await fetch(`${service.url}/metrics`);
      expect(metrics.status).toBe(200);
      const text = await metrics.text();
      expect(text).toMatch(new RegExp(`^portal_http_requests_total\\{[^}]*service="${name}"`, 'm'));
      expect(await promtoolCheckMetrics(text)).toEqual([]);
    } finally {
      expect(await service.stop('SIGTERM')).toBe(0);
    }
  });
});

describe('a service with a bad setting', () => {
  it('stops at start-up with a message that names the variable', async () => {
    await expect(startProcess(entry('news'), { env: { PORT: 'eighty' }, timeoutMs: 20_000 })).rejects.toThrow(
      /exited with 78 before it was ready[\s\S]*PORT: .*\(got 'eighty'\)/,
    );
  });
});
