/**
 * The PostgreSQL StatefulSet for real, its pod run as a kubelet would
 * (pod.runner.ts: its environment, user, read-only root filesystem, the init
 * script mounted from its ConfigMap with its mode; POSTGRES_IMAGE may point
 * at a local stand-in), with the Secrets cluster:up generates
 * (deploy/scripts/portal-secrets.sh), then every service's DATABASE_URL from its Secret,
 * pointed at that server: each gets its own database as its own user, and no
 * other service's.
 */
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { Wait } from 'testcontainers';
import type { StartedTestContainer } from 'testcontainers';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { UPSTREAM_IMAGES, readTestingEnv, requireDocker, waitUntil } from '@portal/testing';
import { buildKustomization } from './kustomize.js';
import type { KubeObject } from './kustomize.js';
import { appOfImage, containerEnv, find, generatedSecrets, portalContainer, spec, workloads } from './manifests.js';
import type { Container, Workload } from './manifests.js';
import { runPod } from './pod.runner.js';
import type { RunningPod } from './pod.runner.js';

const LOCAL = fileURLToPath(new URL('./overlays/local', import.meta.url));

let objects: KubeObject[];
let pod: RunningPod | undefined;
let container: StartedTestContainer | undefined;
let urls: Map<string, URL>;

/** A manifest URL (host `postgres`) aimed at the container's mapped port. */
const onContainer = (url: URL, started: StartedTestContainer) => {
  const moved = new URL(url);
  moved.hostname = started.getHost();
  moved.port = String(started.getMappedPort(5432));
  return moved.toString();
};

async function query<T extends pg.QueryResultRow>(url: string, sql: string): Promise<T[]> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 5_000 });
  await client.connect();
  try {
    return (await client.query<T>(sql)).rows;
  } finally {
    await client.end();
  }
}

beforeAll(async () => {
  objects = [...buildKustomization(LOCAL), ...generatedSecrets()];
  const postgres = workloads(objects).find((w) => w.name === 'postgres') as Workload;
  const main = postgres.spec.containers[0] as Container;
  const env = containerEnv(objects, main);
  urls = new Map(
    workloads(objects)
      .filter((w) => portalContainer(w) && w.name !== 'gateway')
      .map((w) => [appOfImage(portalContainer(w)?.image as string) as string, new URL(containerEnv(objects, portalContainer(w) as Container).DATABASE_URL ?? '')]),
  );

  const testing = readTestingEnv();
  await requireDocker('a PostgreSQL container (the StatefulSet under test)', 'POSTGRES_IMAGE');
  console.log(`postgres-init: starting the postgres pod from ${testing.postgresImage}, read-only root, with the local overlay's environment and init script`);
  pod = await runPod({
    objects,
    workload: postgres,
    index: 0,
    image: (image) => (image === UPSTREAM_IMAGES.postgres ? testing.postgresImage : image),
    exposedPorts: [spec<{ ports: { port: number }[] }>(find(objects, 'Service', 'postgres')).ports[0]?.port ?? 5432],
    waitStrategy: Wait.forListeningPorts(),
    startupTimeoutMs: 120_000,
  });
  const started = pod.containers[0] as StartedTestContainer;
  container = started;
  const admin = new URL(`postgres://postgres:${encodeURIComponent(env.POSTGRES_PASSWORD ?? '')}@postgres:5432/postgres`);
  // The entrypoint runs the init scripts on a socket-only server, then restarts: wait for the final one.
  await waitUntil('PostgreSQL after its init scripts', 120_000, () => query(onContainer(admin, started), 'SELECT 1'));
}, 240_000);

afterAll(async () => {
  await pod?.stop();
});

describe('PostgreSQL as the manifests run it', () => {
  it('gives every service a database of its own, reachable with the DATABASE_URL from its Secret', async () => {
    const started = container as StartedTestContainer;
    expect([...urls.keys()].sort()).toEqual(['analytics', 'auth', 'blog', 'news', 'payment', 'webtoon']);
    for (const [service, url] of urls) {
      const [who] = await query<{ user: string; db: string; owner: string }>(
        onContainer(url, started),
        `SELECT current_user AS user, current_database() AS db, pg_get_userbyid(datdba) AS owner FROM pg_database WHERE datname = current_database()`,
      );
      expect(who, service).toEqual({ user: service, db: service, owner: service });
      // Owner of its database: it can run its own migrations.
      await query(onContainer(url, started), 'CREATE TABLE deploy_check (id int); DROP TABLE deploy_check');
    }
  });

  it('keeps every service out of every other service\'s database', async () => {
    const started = container as StartedTestContainer;
    for (const [service, url] of urls) {
      for (const other of urls.keys()) {
        if (other === service) continue;
        const elsewhere = new URL(url);
        elsewhere.pathname = `/${other}`;
        await expect(query(onContainer(elsewhere, started), 'SELECT 1'), `${service} into ${other}`).rejects.toThrow(/permission denied for database/);
      }
    }
  });
});
