/**
 * The containerised stack, for real: every image built from the one Dockerfile
 * (`npm run images`), the Compose stack started by `npm run up` with webtoon
 * scaled to three, then traffic through the gateway and Prometheus asked what
 * it scrapes; `npm run down` at the end. Kafka, PostgreSQL and Prometheus come
 * from KAFKA_IMAGE, POSTGRES_IMAGE and PROMETHEUS_IMAGE, the Node base from
 * NODE_IMAGE (CI: local stand-ins). Grafana is not started: it is not named
 * below and nothing named depends on it.
 *
 * Needs Docker and Docker Compose (v2 plugin or docker-compose v1.29+); without
 * them it fails and says so, it never skips.
 */
import { createServer } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually, mustRun, run } from '../commands.js';
import { dashboardQueries } from '../monitoring/monitoring.files.js';

const PROJECT = `portal-stacktest-${process.pid}`;
const TAG = 'stacktest';
const SERVICES = ['auth', 'news', 'blog', 'webtoon', 'payment', 'analytics'] as const;
const WEBTOON_REPLICAS = 3;
const FREE_EPISODE = '11111111-1111-4111-8111-000000000001';
const PAID_EPISODE = '11111111-1111-4111-8111-000000000003';
const MINUTE = 60_000;

const freePort = () =>
  new Promise<number>((resolve, reject) => {
    const server = createServer();
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => {
      const address = server.address();
      server.close(() => resolve(typeof address === 'object' && address ? address.port : 0));
    });
  });


async function compose(): Promise<string[]> {
  if ((await run('docker', ['compose', 'version'], process.env, true).catch(() => ({ code: 1 }))).code === 0) return ['docker', 'compose'];
  if ((await run('docker-compose', ['version'], process.env, true).catch(() => ({ code: 1 }))).code === 0) return ['docker-compose'];
  throw new Error(
    'This test needs Docker Compose: neither `docker compose` (v2) nor `docker-compose` (v1.29+) answered. ' +
      'Install one (Debian: apt-get install docker-compose; https://docs.docker.com/compose/install/).',
  );
}

interface UpstreamSnapshot {
  service: string;
  source: string;
  instances: { url: string; state: string; requests: number }[];
}

describe('the Compose stack, built from the Dockerfile', () => {
  const ports = { gateway: 0, prometheus: 0, monolith: 0 };
  const env: NodeJS.ProcessEnv = { ...process.env, COMPOSE_PROJECT_NAME: PROJECT, PORTAL_TAG: TAG };
  let composeCommand: string[] = [];
  let started = false;
  const gateway = (path: string, init?: RequestInit) => fetch(`http://127.0.0.1:${ports.gateway}${path}`, init);
  const containersOf = async (service: string) =>
    (
      await mustRun('docker', ['ps', '-q', '--filter', `label=com.docker.compose.project=${PROJECT}`, '--filter', `label=com.docker.compose.service=${service}`], env, true)
    )
      .split('\n')
      .filter(Boolean);
  const upstreams = async (): Promise<UpstreamSnapshot[]> => {
    // The admin API listens on the gateway container's loopback only; ask from inside.
    const script = "fetch('http://127.0.0.1:9876/upstreams').then((r) => r.text()).then((t) => process.stdout.write(t))";
    const [id] = await containersOf('gateway');
    const out = await mustRun('docker', ['exec', id as string, 'node', '-e', script], env, true);
    return (JSON.parse(out) as { services: UpstreamSnapshot[] }).services;
  };

  const json = { 'content-type': 'application/json' };
  let session: Promise<Record<string, string>> | undefined;
  /** Registers a user and logs in through the gateway, once; the authorization header. */
  const signIn = () =>
    (session ??= (async () => {
      const email = `stack-${process.pid}-${Date.now()}@example.com`;
      const registered = await gateway('/api/auth/register', {
        method: 'POST',
        headers: json,
        body: JSON.stringify({ email, password: 'correct horse battery', displayName: 'Stack' }),
      });
      expect(registered.status).toBe(202);
      const login = await gateway('/api/auth/login', { method: 'POST', headers: json, body: JSON.stringify({ email, password: 'correct horse battery' }) });
      expect(login.status).toBe(200);
      const { accessToken } = (await login.json()) as { accessToken: string };
      expect(accessToken.split('.')).toHaveLength(3);
      return { authorization: `Bearer ${accessToken}` };
    })());

  beforeAll(async () => {
    const docker = await run('docker', ['info', '--format', '{{.ServerVersion}}'], process.env, true).catch((error: Error) => ({ code: 1, output: error.message }));
    if (docker.code !== 0) {
      throw new Error(`This test needs a Docker engine and none answered (${docker.output.trim()}). Install Docker Engine and start it: https://docs.docker.com/engine/install/`);
    }
    composeCommand = await compose();
    console.log(`[stack] Docker ${docker.output.trim()}, ${composeCommand.join(' ')}; images from NODE_IMAGE=${env.NODE_IMAGE ?? '(default)'}, KAFKA_IMAGE=${env.KAFKA_IMAGE ?? '(default)'}, POSTGRES_IMAGE=${env.POSTGRES_IMAGE ?? '(default)'}, PROMETHEUS_IMAGE=${env.PROMETHEUS_IMAGE ?? '(default)'}`);

    let t0 = Date.now();
    await mustRun('bash', ['deploy/docker/build-images.sh'], env);
    console.log(`[stack] images built in ${Math.round((Date.now() - t0) / 1000)}s`);

    ports.gateway = await freePort();
    ports.prometheus = await freePort();
    ports.monolith = await freePort();
    Object.assign(env, {
      GATEWAY_PORT: String(ports.gateway),
      PROMETHEUS_PORT: String(ports.prometheus),
      MONOLITH_PORT: String(ports.monolith),
      // The monolith runs beside the services, so the monolith-vs-services dashboard has both sides.
      COMPOSE_PROFILES: 'monolith',
      UP_TIMEOUT: '600',
    });
    t0 = Date.now();
    started = true;
    await mustRun('bash', ['deploy/scripts/compose.sh', 'up', '--scale', `webtoon=${WEBTOON_REPLICAS}`, 'gateway', 'prometheus', 'monolith'], env);
    console.log(`[stack] up and healthy in ${Math.round((Date.now() - t0) / 1000)}s`);
  }, 40 * MINUTE);

  afterAll(async () => {
    if (!started) return;
    const down = await run('bash', ['deploy/scripts/compose.sh', 'down', '--volumes', '--timeout', '15'], env);
    if (down.code !== 0) console.error(`[stack] compose down failed (${down.code}); remove the project ${PROJECT} by hand`);
  }, 5 * MINUTE);

  it('runs every app as non-root from the pruned workspace only', async () => {
    for (const app of [...SERVICES, 'gateway', 'monolith']) {
      const image = `portal/${app}:${TAG}`;
      const user = (await mustRun('docker', ['image', 'inspect', '-f', '{{.Config.User}} {{json .Config.Healthcheck.Test}}', image], env, true)).trim();
      expect(user, image).toBe('1000:1000 ["CMD","node","/app/healthcheck.mjs"]');
    }
    // No build tools, test helpers, sources or build-time CA file in the final stage.
    const listing = await mustRun(
      'docker',
      ['run', '--rm', '--read-only', '--entrypoint', 'sh', `portal/webtoon:${TAG}`, '-c',
        'id -u; ls /app /app/packages /app/node_modules/@portal; ls -d /src /tmp/build-ca.pem /app/node_modules/typescript /app/node_modules/vitest /app/node_modules/testcontainers /app/packages/webtoon/src 2>&1 || true'],
      env,
      true,
    );
    expect(listing).toMatch(/^1000\n/);
    expect(listing).toContain('webtoon-service');
    for (const absent of ['/src', '/tmp/build-ca.pem', 'typescript', 'vitest', 'testcontainers', '/app/packages/webtoon/src']) {
      expect(listing).toMatch(new RegExp(`ls: cannot access '[^']*${absent.replaceAll('/', '\\/')}'`));
    }
    expect(listing).not.toMatch(/^testing$/m);
  }, 2 * MINUTE);

  it('adds at most 40 MB to the Node base per app, none of it source maps, TypeScript or docs', async () => {
    const size = async (image: string) => Number((await mustRun('docker', ['image', 'inspect', '-f', '{{.Size}}', image], env, true)).trim());
    const base = await size(env.NODE_IMAGE ?? 'node:24-bookworm-slim');
    const added = Object.fromEntries(
      await Promise.all([...SERVICES, 'gateway', 'monolith'].map(async (app) => [app, Math.round(((await size(`portal/${app}:${TAG}`)) - base) / 1e5) / 10] as const)),
    );
    console.log(`[stack] MB each image adds to the base (${Math.round(base / 1e6)} MB): ${JSON.stringify(added)}`);
    for (const [app, mb] of Object.entries(added)) expect(mb, `portal/${app}:${TAG} adds ${mb} MB`).toBeLessThanOrEqual(40);
    const leftovers = await mustRun(
      'docker',
      ['run', '--rm', '--entrypoint', 'sh', `portal/webtoon:${TAG}`, '-c', "find /app \\( -name '*.map' -o -name '*.d.ts' -o -iname '*.md' -o -path '*/node_modules/fastify/test' \\) | head -5"],
      env,
      true,
    );
    expect(leftovers).toBe('');
  }, 2 * MINUTE);

  it('starts the monolith image on a read-only root filesystem, healthy by its own HEALTHCHECK', async () => {
    const id = (await mustRun('docker', ['run', '-d', '--read-only', '--tmpfs', '/tmp', '--cap-drop', 'ALL', '--health-interval', '2s', `portal/monolith:${TAG}`], env, true)).trim();
    try {
      await eventually('the monolith container healthy', 3 * MINUTE, async () => {
        const state = (await mustRun('docker', ['inspect', '-f', '{{.State.Status}} {{.State.Health.Status}}', id], env, true)).trim();
        if (state.startsWith('exited')) throw new Error(`exited: ${(await run('docker', ['logs', '--tail', '30', id], env, true)).output}`);
        if (state !== 'running healthy') throw new Error(state);
      });
      const ready = await mustRun('docker', ['exec', id, 'node', '/app/healthcheck.mjs', 'ready'], env, true);
      expect(ready).toBe('');
      expect((await run('docker', ['logs', id], env, true)).output).toMatch(/monolith ready on http:\/\/127\.0\.0\.1:3000 \(\d+ ms, databases: embedded/);
    } finally {
      await run('docker', ['rm', '-f', id], env, true);
    }
  }, 5 * MINUTE);

  it('answers for every service through the gateway, with webtoon alone scaled to three', async () => {
    // Signed in: the gateway wants a token for every payment request.
    const auth = await signIn();
    for (const service of SERVICES) {
      const response = await gateway(`/api/${service}/openapi.json`, { headers: auth });
      expect(response.status, service).toBe(200);
      expect(((await response.json()) as { openapi?: string }).openapi, service).toMatch(/^3\./);
      expect(await containersOf(service), service).toHaveLength(service === 'webtoon' ? WEBTOON_REPLICAS : 1);
    }
    const listed = await eventually('the gateway to discover three webtoon instances', MINUTE, async () => {
      const services = await upstreams();
      const webtoon = services.find((s) => s.service === 'webtoon');
      if (webtoon?.instances.length !== WEBTOON_REPLICAS) throw new Error(`webtoon instances: ${JSON.stringify(webtoon?.instances)}`);
      return services;
    });
    expect(listed.map((s) => s.service).sort()).toEqual([...SERVICES].sort());
    for (const { service, source, instances } of listed) {
      expect(source, service).toMatch(new RegExp(`^dns ${service}:\\d+$`));
      expect(instances, service).toHaveLength(service === 'webtoon' ? WEBTOON_REPLICAS : 1);
    }
  }, 3 * MINUTE);

  it('registers, logs in, reads episodes over all three webtoon replicas, and unlocks a paid one through Kafka', async () => {
    const before = new Map((await upstreams()).find((s) => s.service === 'webtoon')?.instances.map((i) => [i.url, i.requests]));
    const auth = await signIn();

    const reads = 30;
    for (let i = 0; i < reads; i += 1) {
      const episode = await gateway(`/api/webtoon/episodes/${FREE_EPISODE}`);
      expect(episode.status).toBe(200);
      expect(((await episode.json()) as { id: string }).id).toBe(FREE_EPISODE);
    }
    const after = (await upstreams()).find((s) => s.service === 'webtoon')?.instances ?? [];
    const served = after.map((i) => i.requests - (before.get(i.url) ?? 0));
    expect(after).toHaveLength(WEBTOON_REPLICAS);
    expect(served.reduce((a, b) => a + b, 0)).toBeGreaterThanOrEqual(reads);
    // Round-robin: every replica took a share.
    for (const count of served) expect(count).toBeGreaterThan(0);

    expect((await gateway(`/api/webtoon/episodes/${PAID_EPISODE}`, { headers: auth })).status).toBe(402);
    const paid = await gateway('/api/payment/payments', {
      method: 'POST',
      headers: { ...json, ...auth, 'idempotency-key': crypto.randomUUID() },
      body: JSON.stringify({ item: { type: 'episode', id: PAID_EPISODE }, amountCents: 300, currency: 'USD', paymentMethod: { token: 'tok_ok' } }),
    });
    expect(paid.status).toBe(201);
    expect(((await paid.json()) as { status: string }).status).toBe('completed');
    // payment.completed leaves payment's outbox for Kafka; a webtoon replica's consumer grants the entitlement.
    await eventually('the paid episode to unlock', MINUTE, async () => {
      const episode = await gateway(`/api/webtoon/episodes/${PAID_EPISODE}`, { headers: auth });
      if (episode.status !== 200) throw new Error(`status ${episode.status}`);
    });
  }, 3 * MINUTE);

  it('has Prometheus scraping every app, each webtoon replica a target of its own, all up', async () => {
    interface Target {
      labels: Record<string, string>;
      scrapeUrl: string;
      health: string;
      lastError: string;
    }
    const prometheus = `http://127.0.0.1:${ports.prometheus}`;
    const targets = await eventually('every scrape target up', 2 * MINUTE, async () => {
      const body = (await (await fetch(`${prometheus}/api/v1/targets?state=active`)).json()) as { data: { activeTargets: Target[] } };
      const active = body.data.activeTargets;
      const down = active.filter((t) => t.health !== 'up');
      if (down.length > 0) throw new Error(`not up: ${down.map((t) => `${t.scrapeUrl} (${t.health}: ${t.lastError})`).join(', ')}`);
      const webtoon = active.filter((t) => t.labels.job === 'webtoon');
      if (webtoon.length !== WEBTOON_REPLICAS) throw new Error(`${webtoon.length} webtoon targets`);
      return active;
    });
    for (const job of [...SERVICES, 'gateway']) {
      const count = targets.filter((t) => t.labels.job === job).length;
      expect(count, job).toBe(job === 'webtoon' ? WEBTOON_REPLICAS : 1);
    }
    // Each replica's own counter of episode reads, scraped from it: all three served the reads above
    // (health checks alone never touch this route).
    await eventually('episode-read counters from all three webtoon replicas', MINUTE, async () => {
      const query = encodeURIComponent('count(sum by (instance) (portal_http_requests_total{service="webtoon",route="/api/webtoon/episodes/:id"}) > 0)');
      const body = (await (await fetch(`${prometheus}/api/v1/query?query=${query}`)).json()) as { data: { result: { value: [number, string] }[] } };
      const value = body.data.result[0]?.value[1];
      if (value !== String(WEBTOON_REPLICAS)) throw new Error(`replicas with requests: ${value ?? 'none'}`);
    });
  }, 4 * MINUTE);
  it("passes the pipeline's smoke test through the gateway (npm run smoke)", async () => {
    const result = await run('node', ['packages/pipeline/dist/cli.js', 'smoke', '--url', `http://127.0.0.1:${ports.gateway}`, '--wait', '120'], env);
    expect(result.output).not.toMatch(/smoke test failed/);
    expect(result.code, result.output).toBe(0);
  }, 4 * MINUTE);

  it('answers every query of every Grafana dashboard with data after a burst of traffic on both shapes', async () => {
    // The portal mix (reads, writes, payments) through the gateway and straight at the monolith.
    for (const url of [`http://127.0.0.1:${ports.gateway}`, `http://127.0.0.1:${ports.monolith}`]) {
      await mustRun('node', ['packages/loadgen/dist/cli.js', '--url', url, '--seconds', '20', '--rate', '25', '--users', '2'], env);
    }
    const prometheus = `http://127.0.0.1:${ports.prometheus}`;
    const queries = dashboardQueries();
    expect(queries.length).toBeGreaterThan(10);
    // rate() over 1m needs two scrapes (10 s apart) after the traffic; give it a bounded while.
    const empty = await eventually('every dashboard query to return data', 2 * MINUTE, async () => {
      const missing: string[] = [];
      for (const { where, expr } of queries) {
        const response = await fetch(`${prometheus}/api/v1/query?query=${encodeURIComponent(expr)}`);
        const body = (await response.json()) as { status: string; error?: string; data?: { result: unknown[] } };
        if (body.status !== 'success') throw new Error(`${where}: ${body.error ?? response.status}`);
        if ((body.data?.result.length ?? 0) === 0) missing.push(where);
      }
      if (missing.length > 0) throw new Error(`no data for ${missing.length} of ${queries.length}: ${missing.join('; ')}`);
      return missing;
    });
    expect(empty).toEqual([]);
  }, 6 * MINUTE);
});
