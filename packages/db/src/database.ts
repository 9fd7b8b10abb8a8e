import { PGlite } from '@electric-sql/pglite';
import pg from 'pg';

export interface QueryResult<R> {
  rows: R[];
  rowCount: number;
}

/** Anything SQL can be sent to: the database, or a transaction in progress. */
export interface Queryable {
  query<R extends object = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<QueryResult<R>>;
  /** Runs a script of several statements, without parameters (migrations). */
  exec(sql: string): Promise<void>;
}

export interface Database extends Queryable {
  /** 'postgres' for a server named by URL, 'embedded' for in-process PGlite. */
  readonly kind: 'postgres' | 'embedded';
  /** Runs `work` in one transaction: committed if it resolves, rolled back if it throws. */
  transaction<T>(work: (tx: Queryable) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres://… of this service's own database; unset means embedded. */
  url?: string | undefined;
  /** Where embedded data lives; unset means in memory, gone when the process ends. */
  dataDir?: string | undefined;
  /** Connections to a server. */
  poolSize?: number;
}

const INT8 = 20;

/**
 * Opens this service's database. Both kinds speak the same SQL and return the
 * same JS types (int8 as number, timestamptz as Date, jsonb as objects), so
 * domain code and its tests cannot tell them apart.
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  return options.url ? openServer(options.url, options.poolSize ?? 10) : openEmbedded(options.dataDir);
}

function openServer(url: string, max: number): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    types: { getTypeParser: (oid, format) => (oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) },
  });
  // An idle connection that the server drops must not crash the process.
  pool.on('error', (error) => console.error(JSON.stringify({ level: 'warn', msg: 'idle database connection lost', error: error.message })));
  const query: Queryable['query'] = async (sql, params) => {
    const result = await pool.query(sql, params as unknown[] | undefined);
    return { rows: result.rows, rowCount: result.rowCount ?? 0 };
  };
  return {
    kind: 'postgres',
    query,
    exec: async (sql) => void (await pool.query(sql)),
    async transaction(work) {
      const client = await pool.connect();
      const tx: Queryable = {
        query: async (sql, params) => {
          const result = await client.query(sql, params as unknown[] | undefined);
          return { rows: result.rows, rowCount: result.rowCount ?? 0 };
        },
        exec: async (sql) => void (await client.query(sql)),
      };
      try {
        await client.query('BEGIN');
        const value = await work(tx);
        await client.query('COMMIT');
        return value;
      } catch (error) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw error;
      } finally {
        client.release();
      }
    },
    close: () => pool.end(),
  };
}

/**
 * An empty, initialised data directory, made once per process. A fresh
 * in-memory PGlite runs initdb (seconds of CPU); loading this copy takes a
 * fraction of that, which is what makes the monolith (six databases) and the
 * tests start quickly. It is dropped a minute after its last use.
 */
let template: Promise<Blob> | undefined;
let templateTimer: NodeJS.Timeout | undefined;
const TEMPLATE_KEEP_MS = 60_000;

async function freshInMemory(): Promise<PGlite> {
  clearTimeout(templateTimer);
  templateTimer = setTimeout(() => (template = undefined), TEMPLATE_KEEP_MS);
  templateTimer.unref();
  const made = template;
  if (made) return PGlite.create({ loadDataDir: await made, parsers: { [INT8]: Number } });
  const db = await PGlite.create({ parsers: { [INT8]: Number } });
  // Taken before anyone writes to it (migrations would land in every copy),
  // and awaited for the same reason.
  template = db.dumpDataDir('none');
  await template.catch(() => (template = undefined));
  return db;
}

async function openEmbedded(dataDir: string | undefined): Promise<Database> {
  const db = dataDir === undefined ? await freshInMemory() : await PGlite.create({ dataDir, parsers: { [INT8]: Number } });
  const query: Queryable['query'] = async (sql, params) => {
    const result = await db.query(sql, params as unknown[] | undefined);
    return embeddedResult(result);
  };
  return {
    kind: 'embedded',
    query,
    exec: async (sql) => void (await db.exec(sql)),
    transaction: (work) =>
      db.transaction((tx) =>
        work({
          query: async (sql, params) => {
            const result = await tx.query(sql, params as unknown[] | undefined);
            return embeddedResult(result);
          },
          exec: async (sql) => void (await tx.exec(sql)),
        }),
      ),
    close: () => db.close(),
  };
}

/** PGlite reports affectedRows 0 for a SELECT; count its rows instead, as pg does. */
function embeddedResult(result: { rows: unknown[]; affectedRows?: number }) {
  return { rows: result.rows as never[], rowCount: result.rows.length > 0 ? result.rows.length : (result.affectedRows ?? 0) };
}

/** True for PostgreSQL's unique_violation (23505), from either kind. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
