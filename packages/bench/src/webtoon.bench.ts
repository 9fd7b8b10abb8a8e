// Reading an episode is the hot path of the whole system. This puts the same
// load on a bare Node HTTP server sending the same bytes and on the webtoon
// service (NestJS on Fastify, reading from a real PostgreSQL through its
// cache), in one run, and prints the ratio: machines here are too noisy for
// absolute figures to mean much. Once an episode is cached, a free read makes
// no query at all; a second webtoon process with its caches off
// (WEBTOON_CACHE=off: every read queries PostgreSQL, every token is checked)
// shows beside it what a read costs when it really goes to the database.
import { fileURLToPath } from 'node:url';
import pg from 'pg';
import { createDatabase, startPostgres, startProcess } from '@portal/testing';
import type { ServiceProcess } from '@portal/testing';
import { atLeast, goalLine, load, table } from './load.ts';
import type { LoadResult } from './load.ts';

const GOAL = atLeast(0.5);
const FREE_EPISODE = '11111111-1111-4111-8111-000000000001';
const PAID_EPISODE = '11111111-1111-4111-8111-000000000003';
const CACHES_OFF_FREE = 'webtoon caches off, free episode';
const CACHES_OFF_PAID = 'webtoon caches off, paid episode';

const seconds = Number(process.env.BENCH_SECONDS ?? 10);
const connections = Number(process.env.BENCH_CONNECTIONS ?? 50);
const app = (name: string) => fileURLToPath(new URL(`../../../apps/${name}/dist/main.js`, import.meta.url));
const quiet = { PORT: '0', HOST: '127.0.0.1', LOG_LEVEL: 'warn', KAFKA_BROKERS: undefined };
const say = (line: string) => process.stderr.write(`[bench:webtoon] ${line}\n`);

async function post(url: string, body: unknown): Promise<Record<string, unknown>> {
  const res = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) });
  const json = (await res.json()) as Record<string, unknown>;
  if (!res.ok) throw new Error(`POST ${url}: ${res.status} ${JSON.stringify(json)}`);
  return json;
}

const started: ServiceProcess[] = [];
say('starting PostgreSQL');
const postgres = await startPostgres();
try {
  const [authDb, webtoonDb] = [await createDatabase(postgres, 'auth'), await createDatabase(postgres, 'webtoon')];
  say('starting the auth and webtoon services');
  const auth = await startProcess(app('auth'), { env: { ...quiet, DATABASE_URL: authDb } });
  started.push(auth);
  const webtoon = await startProcess(app('webtoon'), {
    env: { ...quiet, DATABASE_URL: webtoonDb, AUTH_JWKS_URL: `${auth.url}/api/auth/.well-known/jwks.json` },
  });
  started.push(webtoon);
  const uncached = await startProcess(app('webtoon'), {
    env: { ...quiet, DATABASE_URL: webtoonDb, AUTH_JWKS_URL: `${auth.url}/api/auth/.well-known/jwks.json`, WEBTOON_CACHE: 'off' },
  });
  started.push(uncached);

  // A signed-in reader entitled to the paid episode, as a completed payment would leave them.
  const credentials = { email: 'bench@example.com', password: 'bench-password' };
  await post(`${auth.url}/api/auth/register`, { ...credentials, displayName: 'Bench' });
  const { accessToken } = await post(`${auth.url}/api/auth/login`, credentials);
  // Registration does not tell the id (its answer is the same for a taken email); the account does.
  const user = (await (await fetch(`${auth.url}/api/auth/me`, { headers: { authorization: `Bearer ${String(accessToken)}` } })).json()) as { id: string };
  const db = new pg.Client({ connectionString: webtoonDb });
  await db.connect();
  await db.query('INSERT INTO entitlements (user_id, episode_id, payment_id) VALUES ($1, $2, gen_random_uuid())', [user.id, PAID_EPISODE]);
  await db.end();

  const signedIn = { authorization: `Bearer ${String(accessToken)}` };
  const paid = await fetch(`${webtoon.url}/api/webtoon/episodes/${PAID_EPISODE}`, { headers: signedIn });
  if (paid.status !== 200) throw new Error(`the entitled reader got ${paid.status} for the paid episode: ${await paid.text()}`);
  const body = await paid.text();
  const paidUncached = await fetch(`${uncached.url}/api/webtoon/episodes/${PAID_EPISODE}`, { headers: signedIn });
  if ((await paidUncached.text()) !== body) throw new Error(`the webtoon with its caches off answered otherwise: ${paidUncached.status}`);

  const bare = await startProcess(fileURLToPath(new URL('./bare-server.js', import.meta.url)), { env: { BODY: body } });
  started.push(bare);

  say(`${seconds} s per target (after a short warm-up), ${connections} connections`);
  const results: LoadResult[] = [];
  for (const [name, url, headers] of [
    ['bare node:http', `${bare.url}/`, {}],
    ['webtoon, free episode', `${webtoon.url}/api/webtoon/episodes/${FREE_EPISODE}`, {}],
    ['webtoon, paid episode', `${webtoon.url}/api/webtoon/episodes/${PAID_EPISODE}`, signedIn],
    [CACHES_OFF_FREE, `${uncached.url}/api/webtoon/episodes/${FREE_EPISODE}`, {}],
    [CACHES_OFF_PAID, `${uncached.url}/api/webtoon/episodes/${PAID_EPISODE}`, signedIn],
  ] as const) {
    say(`loading ${name}`);
    results.push(await load(name, url, { seconds, connections, headers }));
  }

  console.log(table(results));
  const [baseline, ...service] = results;
  // On 2 cores the load generator (autocannon, in this process) and the server
  // each get about one: a bare server answers about as cheaply as autocannon
  // asks, so the baseline can be capped by the generator, not the server.
  // Running autocannon in a worker or child process would not change that (it
  // needs the same CPU); showing it does. A capped baseline is a floor, and the
  // ratios against it are then, if anything, generous.
  if (baseline && baseline.loadgenCores >= 0.85) {
    console.log(`note: the load generator used ${Math.round(baseline.loadgenCores * 100)} % of a core on ${baseline.name}: that figure may be capped by it`);
  }
  for (const r of service) {
    const ratio = r.requestsPerSecond / (baseline?.requestsPerSecond ?? Number.NaN);
    // The goal is for the service as it runs; the caches-off rows are there to compare with.
    if (r.name === CACHES_OFF_FREE || r.name === CACHES_OFF_PAID) console.log(`${r.name} / bare: ${ratio.toFixed(2)} x (for comparison, no goal)`);
    else console.log(goalLine(`${r.name} / bare`, ratio, GOAL, r.errors + r.non2xx));
  }
  const rate = (name: string) => results.find((r) => r.name === name)?.requestsPerSecond ?? Number.NaN;
  console.log(
    `caches off / on: free ${(rate(CACHES_OFF_FREE) / rate('webtoon, free episode')).toFixed(2)} x, paid ${(rate(CACHES_OFF_PAID) / rate('webtoon, paid episode')).toFixed(2)} x`,
  );
} finally {
  for (const service of started.reverse()) await service.stop('SIGTERM').catch(() => undefined);
  await postgres.close();
}
