import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startPostgres } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';

describe('PostgreSQL smoke test (real server)', () => {
  let server: PostgresServer;
  let client: pg.Client;

  beforeAll(async () => {
    server = await startPostgres();
    client = new pg.Client({ connectionString: server.url });
    await client.connect();
  });

  afterAll(async () => {
    await client?.end();
    await server?.close();
  });

  it('round-trips rows through a transaction and rolls one back', async () => {
    const { rows: version } = await client.query<{ server_version: string }>('SHOW server_version');
    console.log(`PostgreSQL server version: ${version[0]?.server_version}`);

    await client.query('CREATE TEMP TABLE smoke (id int PRIMARY KEY, body jsonb NOT NULL)');
    await client.query('BEGIN');
    await client.query('INSERT INTO smoke VALUES ($1, $2), ($3, $4)', [1, { a: 1 }, 2, { b: [true] }]);
    await client.query('COMMIT');
    await client.query('BEGIN');
    await client.query('INSERT INTO smoke VALUES (3, $1)', [{ lost: true }]);
    await client.query('ROLLBACK');

    const { rows } = await client.query<{ id: number; body: unknown }>('SELECT id, body FROM smoke ORDER BY id');
    expect(rows).toEqual([
      { id: 1, body: { a: 1 } },
      { id: 2, body: { b: [true] } },
    ]);
    await expect(client.query('INSERT INTO smoke VALUES (1, $1)', [{}])).rejects.toThrow(/duplicate key/);
  });
});
