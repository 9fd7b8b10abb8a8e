import pg from 'pg';
import { GenericContainer, RandomPortGenerator, Wait, getContainerRuntimeClient } from 'testcontainers';
import { requireDocker, waitUntil } from './docker.js';
import { readTestingEnv } from './env.js';
import type { TestingEnv } from './env.js';

export interface PostgresServer {
  /** A postgres:// URL with credentials, for pg or any client. */
  readonly url: string;
  /** True when DATABASE_URL named the server and no container was started. */
  readonly external: boolean;
  /** Stops the server (a fast shutdown: sessions are ended, data stays); only for a container. */
  stopServer(): Promise<void>;
  /** Starts a stopped server again on the same port and waits until it answers. */
  startServer(): Promise<void>;
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
    return {
      url,
      external: true,
      stopServer: () => Promise.reject(new Error('cannot stop the server DATABASE_URL names')),
      startServer: () => Promise.reject(new Error('cannot start the server DATABASE_URL names')),
      close: () => Promise.resolve(),
    };
  }

  await requireDocker('a PostgreSQL server', 'DATABASE_URL');
  // A fixed host port: a stopped and started container keeps it, so clients
  // reconnect to the same URL.
  const hostPort = await new RandomPortGenerator().generatePort();
  const container = await new GenericContainer(env.postgresImage)
    .withEnvironment({ POSTGRES_USER: 'portal', POSTGRES_PASSWORD: 'portal', POSTGRES_DB: 'portal' })
    // Durability is not under test here, speed is: a test database may lose
    // its last writes if the machine crashes.
    .withCommand(['postgres', '-c', 'fsync=off', '-c', 'synchronous_commit=off', '-c', 'full_page_writes=off'])
    .withExposedPorts({ container: 5432, host: hostPort })
    .withWaitStrategy(Wait.forListeningPorts())
    .withStartupTimeout(READY_TIMEOUT_MS)
    .start();
  const url = `postgres://portal:portal@${container.getHost()}:${hostPort}/portal`;
  try {
    // The upstream entrypoint initialises with a socket-only server, then
    // restarts: only a real query says the final server is up.
    await waitUntil(`PostgreSQL in ${env.postgresImage}`, READY_TIMEOUT_MS, () => probe(url));
  } catch (error) {
    await container.stop().catch(() => undefined);
    throw error;
  }
  const docker = async () => {
    const client = await getContainerRuntimeClient();
    return { client, ref: client.container.getById(container.getId()) };
  };
  return {
    url,
    external: false,
    async stopServer() {
      const { client, ref } = await docker();
      // The image's stop signal, SIGINT: a fast shutdown, which ends every session
      // (57P01) as a restart does. The timeout is in milliseconds: a few would
      // SIGKILL the server mid-shutdown, and with synchronous_commit=off (above)
      // that loses commits already acknowledged.
      await client.container.stop(ref, { timeout: 30_000 });
    },
    async startServer() {
      const { client, ref } = await docker();
      await client.container.start(ref);
      await waitUntil(`PostgreSQL in ${env.postgresImage} after start`, READY_TIMEOUT_MS, () => probe(url));
    },
    close: async () => void (await container.stop({ timeout: 5 })),
  };
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
