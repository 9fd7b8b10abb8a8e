import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, promtoolCheckMetrics, startPostgres, startProcess } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { entry } from './paths.js';

const SERVICES = ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'] as const;
type Service = (typeof SERVICES)[number];

let server: PostgresServer;
/** One database per service on the same server, all made before any service starts. */
const databases = new Map<Service, string>();
beforeAll(async () => {
  server = await startPostgres();
  for (const name of SERVICES) databases.set(name, await createDatabase(server, name));
});
afterAll(async () => {
  await server?.close();
});

/** What a database holds: its tables, and the migrations recorded in it (none without schema_migrations). */
async function contents(url: string): Promise<{ tables: string[]; migrations: string[] }> {
  const client = new pg.Client({ connectionString: url });
  await client.connect();
  try {
    const tables = await client.query<{ name: string }>(
      "SELECT table_name AS name FROM information_schema.tables WHERE table_schema = 'public' ORDER BY 1",
    );
    const names = tables.rows.map((r) => r.name);
    const migrations = names.includes('schema_migrations')
      ? (await client.query<{ id: string }>('SELECT id FROM schema_migrations ORDER BY id')).rows.map((r) => r.id)
      : [];
    return { tables: names, migrations };
  } finally {
    await client.end();
  }
}

describe.each(SERVICES)('the %s service', (name) => {
  it('starts alone against its own database, answers, and stops cleanly on SIGTERM', async () => {
    const databaseUrl = databases.get(name)!;
    const others = SERVICES.filter((s) => s !== name);
    const othersBefore = await Promise.all(others.map((s) => contents(databases.get(s)!)));
    const service = await startProcess(entry(name), {
      env: { PORT: '0', HOST: '127.0.0.1', DATABASE_URL: databaseUrl, LOG_LEVEL: 'warn', SEED_DEMO_DATA: 'true' },
    });
    try {
      // It says it runs on PostgreSQL (an embedded database would say 'embedded')...
      expect(service.output()).toMatch(new RegExp(`^${name} ready on http://\\S+ \\(\\d+ ms, databases: postgres, bus: in-process\\)$`, 'm'));
      // ...and the database it was given is the one it migrated: its schema is
      // there, and no other service's database gained or lost anything.
      const own = await contents(databaseUrl);
      expect(own.tables).toEqual(expect.arrayContaining(['schema_migrations', 'outbox', 'inbox']));
      expect(own.tables.length).toBeGreaterThan(3);
      expect(own.migrations).toContain('000_messaging');
      expect(own.migrations.length).toBeGreaterThan(1);
      expect(await Promise.all(others.map((s) => contents(databases.get(s)!)))).toEqual(othersBefore);

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
