import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { isUnavailable, isUniqueViolation, migrate, openDatabase } from '@portal/db';
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

describe('a server database when things go wrong', () => {
  it('sets statement, lock and idle-in-transaction timeouts on every session, 5 s, 2 s and 10 s unless told', async () => {
    const db = await openDatabase({ url: server.url });
    try {
      const settings = await db.transaction(async (tx) => {
        const show = async (name: string) => (await tx.query<Record<string, string>>(`SHOW ${name}`)).rows[0]?.[name];
        return [await show('statement_timeout'), await show('lock_timeout'), await show('idle_in_transaction_session_timeout')];
      });
      expect(settings).toEqual(['5s', '2s', '10s']);
    } finally {
      await db.close();
    }
  });

  it('cancels a statement that runs longer than the statement timeout, as unavailable; migrations are not bound by it', async () => {
    const db = await openDatabase({ url: server.url, timeouts: { statementMs: 200 } });
    try {
      const began = Date.now();
      const error = await db.query('SELECT pg_sleep(3)').catch((e: unknown) => e);
      expect((error as { code?: string }).code).toBe('57014');
      expect(Date.now() - began).toBeLessThan(2_000);
      expect(isUnavailable(error)).toBe(true);
      await db.exec('DROP TABLE IF EXISTS schema_migrations');
      expect(await migrate(db, [{ id: '001_slow', sql: 'SELECT pg_sleep(0.5)' }])).toEqual(['001_slow']);
      await db.exec('DROP TABLE schema_migrations');
    } finally {
      await db.close();
    }
  });

  // Both end the session while no statement runs: the checked-out connection
  // then emits 'error', which crashed the process when nothing listened.
  it.each([
    ['it stays idle in a transaction too long', { idleInTransactionMs: 300 }, async () => undefined],
    ['the server terminates it, as a restart does', {}, async (pid: number, db: Database) => void (await db.query('SELECT pg_terminate_backend($1)', [pid]))],
  ])('fails a transaction whose connection is lost between statements when %s, crashes nothing, and uses a new connection next', async (_, timeouts, end) => {
    let heard!: (error: Error) => void;
    const lost = new Promise<Error>((resolve) => (heard = resolve));
    const db = await openDatabase({ url: server.url, poolSize: 2, timeouts, onConnectionLost: (e) => heard(e) });
    try {
      const failed = await db
        .transaction(async (tx) => {
          const { rows } = await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid');
          await end(rows[0]!.pid, db);
          await lost;
          await tx.query('SELECT 2');
        })
        .catch((e: unknown) => e);
      expect(failed).toBeInstanceOf(Error);
      expect(isUnavailable(failed)).toBe(true);
      expect(isUnavailable(await lost)).toBe(true);
      // The lost connection was destroyed, not handed out again broken.
      const answers = await Promise.all([db.query<{ n: number }>('SELECT 3 AS n'), db.query<{ n: number }>('SELECT 3 AS n')]);
      expect(answers.map((a) => a.rows)).toEqual([[{ n: 3 }], [{ n: 3 }]]);
    } finally {
      await db.close();
    }
  }, 15_000);

  it('tells unavailable from refused', async () => {
    const refused = await openDatabase({ url: server.url.replace(/:\d+\//, ':1/') }).then((db) => db.query('SELECT 1').finally(() => db.close())).catch((e: unknown) => e);
    expect(isUnavailable(refused)).toBe(true);
    const wrong = await openDatabase({ url: server.url }).then((db) => db.query('SELECT * FROM no_such_table').finally(() => db.close())).catch((e: unknown) => e);
    expect(isUnavailable(wrong)).toBe(false);
    expect(isUnavailable(new Error('other'))).toBe(false);
    expect(isUnavailable(new Error('outer', { cause: Object.assign(new Error('x'), { code: 'ENOTFOUND' }) }))).toBe(true);
    expect(isUnavailable(Object.assign(new Error('the database system is starting up'), { code: '57P03' }))).toBe(true);
    expect(isUnavailable(Object.assign(new Error('password authentication failed'), { code: '28P01' }))).toBe(false);
  });
});
