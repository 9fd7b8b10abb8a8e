import pg from 'pg';
import { GenericContainer, Wait } from 'testcontainers';
import { requireDocker, waitUntil } from './docker.js';
import { readTestingEnv } from './env.js';
import type { TestingEnv } from './env.js';

export interface PostgresServer {
  /** A postgres:// URL with credentials, for pg or any client. */
  readonly url: string;
  /** True when DATABASE_URL named the server and no container was started. */
  readonly external: boolean;
  /** Removes the container; a no-op for an external server. */
  close(): Promise<void>;
}

const READY_TIMEOUT_MS = 60_000;

/**
 * A real PostgreSQL server for a test: the one DATABASE_URL names, or else one
 * in a container from POSTGRES_IMAGE (default postgres:15).
 */
export async function startPostgres(env: TestingEnv = readTestingEnv()): Promise<PostgresServer> {
  if (env.databaseUrl !== undefined) {
    const url = env.databaseUrl;
    await waitUntil('PostgreSQL at DATABASE_URL', 15_000, () => probe(url));
    return { url, external: true, close: () => Promise.resolve() };
  }

  await requireDocker('a PostgreSQL server', 'DATABASE_URL');
  const container = await new GenericContainer(env.postgresImage)
    .withEnvironment({ POSTGRES_USER: 'portal', POSTGRES_PASSWORD: 'portal', POSTGRES_DB: 'portal' })
    // Durability is not under test here, speed is: a test database may lose
    // its last writes if the machine crashes.
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'])
    .withExposedPorts(5432)
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(READY_TIMEOUT_MS)
    .start();
  const url = `postgres://portal:portal@${container.getHost()}:${container.getMappedPort(5432)}/portal`;
  try {
    // The upstream entrypoint initialises with a socket-only server, then
    // restarts: only a real query says the final server is up.
    await waitUntil(`PostgreSQL in ${env.postgresImage}`, READY_TIMEOUT_MS, () => probe(url));
  } catch (error) {
    await container.stop().catch(() => undefined);
    throw error;
  }
  return { url, external: false, close: async () => void (await container.stop({ timeout: 5 })) };
}

async function probe(url: string): Promise<void> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 2_000 });
  try {
    await client.connect();
    await client.query('SELECT 1');
  } finally {
    await client.end().catch(() => undefined);
  }
}

/**
 * A new, empty database on `server`, for one test file or one service: the
 * URL of the server with the new database's name. Needs CREATEDB on a server
 * that DATABASE_URL names.
 */
export async function createDatabase(server: PostgresServer, prefix: string): Promise<string> {
  const name = `${prefix.replace(/[^a-z0-9_]/gi, '_').toLowerCase()}_${Math.random().toString(36).slice(2, 10)}`;
  const client = new pg.Client({ connectionString: server.url });
  await client.connect();
  try {
    await client.query(`CREATE DATABASE "${name}"`);
  } finally {
    await client.end();
  }
  const url = new URL(server.url);
  url.pathname = `/${name}`;
  return url.toString();
}
