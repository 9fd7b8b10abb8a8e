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
  /** Bounds on a server's connections; DEFAULT_TIMEOUTS where unset. */
  timeouts?: Partial<DatabaseTimeouts> | undefined;
  /** Hears about connections lost while idle or checked out (the pool replaces them); a JSON line on stderr by default. */
  onConnectionLost?: ((error: Error) => void) | undefined;
}

/** Milliseconds; PostgreSQL applies the first three to every session of the pool. */
export interface DatabaseTimeouts {
  /** A statement running longer is cancelled (57014). */
  readonly statementMs: number;
  /** A statement waiting longer for a lock gives up (55P03). */
  readonly lockMs: number;
  /** A transaction left idle longer is ended and its connection closed (25P03): its locks go with it. */
  readonly idleInTransactionMs: number;
  /** Opening a connection taking longer fails, rather than making a request wait for a server that does not answer. */
  readonly connectMs: number;
}

export const DEFAULT_TIMEOUTS: DatabaseTimeouts = { statementMs: 5_000, lockMs: 2_000, idleInTransactionMs: 10_000, connectMs: 5_000 };

const INT8 = 20;

/**
 * Opens this service's database. Both kinds speak the same SQL and return the
 * same JS types (int8 as number, timestamptz as Date, jsonb as objects), so
 * domain code and its tests cannot tell them apart.
 */
export async function openDatabase(options: DatabaseOptions = {}): Promise<Database> {
  if (!options.url) return openEmbedded(options.dataDir);
  const lost = options.onConnectionLost ?? ((error) => console.error(JSON.stringify({ level: 'warn', msg: 'database connection lost', error: error.message })));
  return openServer(options.url, options.poolSize ?? 10, { ...DEFAULT_TIMEOUTS, ...options.timeouts }, lost);
}

function openServer(url: string, max: number, timeouts: DatabaseTimeouts, lost: (error: Error) => void): Database {
  const pool = new pg.Pool({
    connectionString: url,
    max,
    // Sent with every new session, so they hold whoever runs the statement.
    statement_timeout: timeouts.statementMs,
    lock_timeout: timeouts.lockMs,
    idle_in_transaction_session_timeout: timeouts.idleInTransactionMs,
    connectionTimeoutMillis: timeouts.connectMs,
    types: { getTypeParser: (oid, format) => (oid === INT8 ? Number : pg.types.getTypeParser(oid, format)) },
  });
  // A connection the server drops (a restart, a failover) emits 'error'; with
  // no listener that would crash the process. The pool listens on idle ones.
  pool.on('error', lost);
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
      // A checked-out connection has no pool listener: one lost between two
      // statements (while `work` awaits something else) is heard here, and
      // the connection is destroyed on release instead of going back to the pool.
      let broken: Error | undefined;
      const onError = (error: Error) => {
        broken ??= error;
        lost(error);
      };
      client.on('error', onError);
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
        if (!broken) await client.query('ROLLBACK').catch((rollback: unknown) => (broken = rollback instanceof Error ? rollback : new Error(String(rollback))));
        throw error;
      } finally {
        client.off('error', onError);
        client.release(broken);
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

// SQLSTATEs after which the same request may succeed later: the connection
// failed (class 08), the server is shutting down, restarting or starting
// (57P01-57P03), too busy (53300), or one of DatabaseTimeouts ran out (57014
// statement, 55P03 lock, 25P03 idle in transaction).
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300', '57014', '55P03', '25P03']);
// The same from the socket or from pg itself, which reports a lost connection by message only.
const UNAVAILABLE_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ENOTFOUND', 'EAI_AGAIN', 'ETIMEDOUT', 'EHOSTUNREACH', 'ENETUNREACH', 'EPIPE']);
const UNAVAILABLE_MESSAGE = /Connection terminated|timeout exceeded when trying to connect|timeout expired|not queryable/i;

/**
 * True when the database could not answer now, rather than refusing what was
 * asked: unreachable, restarting, overloaded or out of time. Worth trying
 * again later; the error carries nothing wrong with the request.
 */
export function isUnavailable(error: unknown): boolean {
  for (let e: unknown = error; e; e = (e as { cause?: unknown }).cause) {
    const code = (e as { code?: unknown }).code;
    if (typeof code === 'string' && (UNAVAILABLE_STATES.has(code) || UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) return true;
    if (e instanceof AggregateError && e.errors.some(isUnavailable)) return true;
    if (e instanceof Error && UNAVAILABLE_MESSAGE.test(e.message)) return true;
  }
  return false;
}

/** True for PostgreSQL's unique_violation (23505), from either kind. */
export function isUniqueViolation(error: unknown): boolean {
  return typeof error === 'object' && error !== null && (error as { code?: unknown }).code === '23505';
}
