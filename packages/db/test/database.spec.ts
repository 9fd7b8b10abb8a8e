import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { isUniqueViolation, migrate, openDatabase } from '@portal/db';
import type { Database } from '@portal/db';

const migrations = [
  { id: '001_things', sql: 'CREATE TABLE things (id int8 PRIMARY KEY, at timestamptz NOT NULL, body jsonb NOT NULL); CREATE INDEX things_at ON things (at);' },
  { id: '002_names', sql: 'ALTER TABLE things ADD COLUMN name text UNIQUE' },
];

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.close();
});

// The same behaviour from both kinds: domain code cannot tell them apart.
describe.each(['embedded', 'postgres'] as const)('%s database', (kind) => {
  let db: Database;

  beforeAll(async () => {
    db = await openDatabase(kind === 'postgres' ? { url: server.url } : {});
    await db.exec('DROP TABLE IF EXISTS things; DROP TABLE IF EXISTS schema_migrations;');
  });
  afterAll(async () => {
    await db?.close();
  });

  it('applies migrations once, in order, even when two run at the same time', async () => {
    const [first, second] = await Promise.all([migrate(db, migrations), migrate(db, migrations)]);
    expect([...(first ?? []), ...(second ?? [])].sort()).toEqual(['001_things', '002_names']);
    expect(await migrate(db, migrations)).toEqual([]);
  });

  it('returns int8 as number, timestamptz as Date and jsonb as objects', async () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    await db.query('INSERT INTO things (id, at, body, name) VALUES ($1, $2, $3, $4)', [9_007_199_254, at, { a: [1] }, 'one']);
    const { rows } = await db.query<{ id: number; at: Date; body: unknown }>('SELECT id, at, body FROM things WHERE name = $1', ['one']);
    expect(rows).toEqual([{ id: 9_007_199_254, at, body: { a: [1] } }]);
  });

  it('commits a transaction that resolves and rolls back one that throws', async () => {
    await db.transaction(async (tx) => {
      await tx.query('INSERT INTO things (id, at, body, name) VALUES (2, now(), $1, $2)', [{}, 'two']);
    });
    await expect(
      db.transaction(async (tx) => {
        await tx.query('INSERT INTO things (id, at, body, name) VALUES (3, now(), $1, $2)', [{}, 'three']);
        throw new Error('changed my mind');
      }),
    ).rejects.toThrow('changed my mind');
    const { rows } = await db.query<{ name: string }>('SELECT name FROM things ORDER BY id');
    expect(rows.map((r) => r.name)).toEqual(['two', 'one']);
  });

  it('reports unique violations in one way', async () => {
    const error = await db.query('INSERT INTO things (id, at, body, name) VALUES (4, now(), $1, $2)', [{}, 'one']).catch((e: unknown) => e);
    expect(isUniqueViolation(error)).toBe(true);
    expect(isUniqueViolation(new Error('other'))).toBe(false);
  });
});

describe('embedded databases in one process', () => {
  it('are each empty and separate, although later ones start from a copy of the first', async () => {
    const first = await openDatabase({});
    await migrate(first, migrations);
    await first.query('INSERT INTO things (id, at, body, name) VALUES (1, now(), $1, $2)', [{}, 'only in the first']);
    const [second, third] = await Promise.all([openDatabase({}), openDatabase({})]);
    try {
      for (const db of [second, third]) {
        const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM pg_tables WHERE schemaname = 'public'");
        expect(rows[0]?.n).toBe(0);
      }
      await migrate(second, migrations);
      const { rows } = await second.query('SELECT * FROM things');
      expect(rows).toEqual([]);
    } finally {
      await Promise.all([first.close(), second.close(), third.close()]);
    }
  });
});
