// The services as separate processes, each on its own PostgreSQL database,
// talking only through a real Kafka broker: the flows that cross services,
// and the faults the outbox and the inbox exist for.
import { randomUUID } from 'node:crypto';
import { Kafka, logLevel } from 'kafkajs';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDatabase, startKafka, startPostgres, startProcess, waitUntil } from '@portal/testing';
import type { KafkaServer, PostgresServer, ServiceProcess } from '@portal/testing';
import { entry } from './paths.js';

const SERVICES = ['auth', 'news', 'webtoon', 'payment', 'analytics'] as const;
type Name = (typeof SERVICES)[number];
const PAID_EPISODE = '11111111-1111-4111-8111-000000000003';
// Read only by the analytics test, so no other test's views can land in its counts.
const NIGHT_MARKET_EPISODE = '22222222-2222-4222-8222-000000000001';
const NIGHT_MARKET_SERIES = '22222222-2222-4222-8222-222222222222';

let kafka: KafkaServer;
let postgres: PostgresServer;
const databases = {} as Record<Name, string>;
const running = {} as Record<Name, ServiceProcess>;

/** Starts (or restarts, on the same database) one service on Kafka. */
async function start(name: Name, extra: Record<string, string> = {}): Promise<ServiceProcess> {
  const service = await startProcess(entry(name), {
    env: {
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'warn',
      DATABASE_URL: databases[name],
      KAFKA_BROKERS: kafka.brokers.join(','),
      AUTH_JWKS_URL: running.auth ? `${running.auth.url}/api/auth/.well-known/jwks.json` : undefined,
      // Demo episodes only; demo articles and posts would blur the counts below.
      SEED_DEMO_DATA: name === 'webtoon' ? 'true' : 'false',
      ...extra,
    },
  });
  running[name] = service;
  return service;
}

const url = (name: Name, path: string) => `${running[name].url}${path}`;

async function json<T = Record<string, unknown>>(input: string, init: RequestInit = {}): Promise<{ status: number; body: T }> {
  const res = await fetch(input, init);
  const text = await res.text();
  return { status: res.status, body: (text ? JSON.parse(text) : undefined) as T };
}

const post = (input: string, body: unknown, headers: Record<string, string> = {}) =>
  json(input, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) });

async function signUp(): Promise<{ token: string; userId: string }> {
  const credentials = { email: `reader-${randomUUID()}@example.com`, password: 'correct horse battery' };
  const registered = await post(url('auth', '/api/auth/register'), { ...credentials, displayName: 'Reader' });
  expect(registered.status).toBe(202);
  const login = await post(url('auth', '/api/auth/login'), credentials);
  const token = String(login.body.accessToken);
  const me = await json(url('auth', '/api/auth/me'), { headers: { authorization: `Bearer ${token}` } });
  return { token, userId: String(me.body.id) };
}

type Totals = Record<string, number>;
const totals = async (): Promise<Totals> => (await json<{ totals: Totals }>(url('analytics', '/api/analytics/activity'))).body.totals;

const readPaid = (token: string) => fetch(url('webtoon', `/api/webtoon/episodes/${PAID_EPISODE}`), { headers: { authorization: `Bearer ${token}` } }).then((r) => r.status);

const payFor = (token: string, key: string) =>
  post(
    url('payment', '/api/payment/payments'),
    { item: { type: 'episode', id: PAID_EPISODE }, amountCents: 300, currency: 'USD', paymentMethod: { token: 'tok_ok' } },
    { authorization: `Bearer ${token}`, 'idempotency-key': key },
  );

/** How many times the broker holds a payment.completed for this payment. */
async function copiesOnTheBus(paymentId: string): Promise<number> {
  const client = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING });
  const admin = client.admin();
  await admin.connect();
  const ends = await admin.fetchTopicOffsets('portal.payment.events');
  await admin.disconnect();
  const consumer = client.consumer({ groupId: `observer-${randomUUID()}` });
  await consumer.connect();
  await consumer.subscribe({ topic: 'portal.payment.events', fromBeginning: true });
  const seen = new Map<number, number>();
  let copies = 0;
  await consumer.run({
    eachMessage: async ({ partition, message }) => {
      seen.set(partition, Number(message.offset) + 1);
      const event = JSON.parse(String(message.value)) as { name: string; payload: { paymentId?: string } };
      if (event.name === 'payment.completed' && event.payload.paymentId === paymentId) copies += 1;
    },
  });
  await waitUntil('the payment topic read to its end', 30_000, async () => {
    const behind = ends.filter((e) => (seen.get(e.partition) ?? 0) < Number(e.high));
    if (behind.length > 0) throw new Error(`${behind.length} partitions not read to the end`);
  });
  await consumer.disconnect();
  return copies;
}

/**
 * Resolves once nothing is in flight towards analytics: every running
 * service's outbox is empty (its /metrics samples the backlog when asked) and
 * analytics' consumer group has committed every topic to its end. A count
 * read before that could still grow by an earlier test's events.
 */
async function settled(): Promise<void> {
  const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
  await admin.connect();
  try {
    await waitUntil('every outbox sent and analytics caught up', 60_000, async () => {
      for (const name of SERVICES) {
        const text = await (await fetch(url(name, '/metrics'))).text();
        const backlog = text
          .split('\n')
          .filter((line) => line.startsWith('portal_outbox_backlog'))
          .reduce((sum, line) => sum + Number(line.split(' ').at(-1)), 0);
        if (backlog > 0) throw new Error(`${name}: ${backlog} events still in its outbox`);
      }
      // Every event topic, also one the group has not committed on yet.
      const topics = (await admin.listTopics()).filter((topic) => /^portal\.[a-z]+\.events$/.test(topic));
      for (const { topic, partitions } of await admin.fetchOffsets({ groupId: 'analytics', topics })) {
        const ends = await admin.fetchTopicOffsets(topic);
        for (const { partition, high } of ends) {
          const committed = Number(partitions.find((p) => p.partition === partition)?.offset ?? -1);
          if (Number(high) > 0 && committed < Number(high)) throw new Error(`analytics behind on ${topic}[${partition}]: ${committed} of ${high}`);
        }
      }
    });
  } finally {
    await admin.disconnect();
  }
}

function exited(service: ServiceProcess): Promise<NodeJS.Signals | number | null> {
  const { child } = service;
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve(child.signalCode ?? child.exitCode);
  return new Promise((resolve) => child.once('exit', (code, signal) => resolve(signal ?? code)));
}

beforeAll(async () => {
  [kafka, postgres] = await Promise.all([startKafka(), startPostgres()]);
  for (const name of SERVICES) databases[name] = await createDatabase(postgres, name);
  await start('auth');
  await Promise.all((['news', 'webtoon', 'payment', 'analytics'] as const).map((name) => start(name)));
}, 360_000);

afterAll(async () => {
  for (const service of Object.values(running)) await service.stop('SIGTERM').catch(() => undefined);
  await Promise.all([kafka?.close(), postgres?.close()]);
});

describe('services on Kafka, each in its own process', () => {
  it('unlocks a paid episode in webtoon once payment says it is paid', async () => {
    const { token } = await signUp();
    expect(await readPaid(token)).toBe(402);
    const paid = await payFor(token, randomUUID());
    expect(paid).toMatchObject({ status: 201, body: { status: 'completed' } });
    await waitUntil('webtoon grants the episode', 30_000, async () => {
      const status = await readPaid(token);
      if (status !== 200) throw new Error(`still ${status}`);
    });
  });

  it('shows views and publications in analytics', async () => {
    const trendingViews = async () =>
      (await json<{ items: { seriesId: string; views: number }[] }>(url('analytics', '/api/analytics/trending/webtoons'))).body.items.find((i) => i.seriesId === NIGHT_MARKET_SERIES)
        ?.views ?? 0;
    const techArticles = async () =>
      (await json<{ items: { category: string; articles: number }[] }>(url('analytics', '/api/analytics/articles/by-category'))).body.items.find((i) => i.category === 'tech')
        ?.articles ?? 0;
    await settled();
    const before = { totals: await totals(), views: await trendingViews(), articles: await techArticles() };
    const { token } = await signUp();
    const article = await post(url('news', '/api/news/articles'), { title: 'Across the bus', body: 'Published in news, counted in analytics.', category: 'tech' }, { authorization: `Bearer ${token}` });
    expect(article.status).toBe(201);
    for (let i = 0; i < 3; i += 1) expect((await fetch(url('webtoon', `/api/webtoon/episodes/${NIGHT_MARKET_EPISODE}`))).status).toBe(200);

    // Views travel in batches (one episode.viewed per episode and second), so wait for the count, not for one event.
    await waitUntil('analytics counts the article, the three views and the sign-up', 30_000, async () => {
      const [views, articles, users] = [await trendingViews(), await techArticles(), (await totals())['user.registered'] ?? 0];
      const registered = before.totals['user.registered'] ?? 0;
      if (views < before.views + 3 || articles < before.articles + 1 || users < registered + 1) {
        throw new Error(`views ${views - before.views}/3, articles ${articles - before.articles}/1, sign-ups ${users - registered}/1`);
      }
    });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(await trendingViews()).toBe(before.views + 3);
    expect(await techArticles()).toBe(before.articles + 1);
    const after = await totals();
    expect(after['article.published']).toBe((before.totals['article.published'] ?? 0) + 1);
    expect(after['user.registered']).toBe((before.totals['user.registered'] ?? 0) + 1);
  });

  describe.each([
    ['crash-before-publish', 1],
    ['crash-after-publish', 2],
  ] as const)('payment killed by %s', (fault, copies) => {
    it('still unlocks the episode after the restart, once, and charges once', async () => {
      await settled();
      const before = await totals();
      const { token } = await signUp();
      await running.payment.stop('SIGTERM');
      const crashing = await start('payment', { FAULT_INJECTION: fault });
      const key = randomUUID();
      // The commit happens; the answer may or may not get out before the crash.
      const first: { status: number; body: Record<string, unknown> } = await payFor(token, key).catch((error: unknown) => ({ status: 0, body: { error: String(error) } }));
      expect(await exited(crashing)).toBe('SIGKILL');
      if (fault === 'crash-before-publish') {
        // Nothing reached the bus: webtoon cannot know yet.
        expect(await readPaid(token)).toBe(402);
      }

      await start('payment');
      // The client retries with the same key and gets the payment made before the crash.
      const retry = await payFor(token, key);
      expect(retry.status).toBe(first.status === 0 ? 201 : first.status);
      expect(retry.body).toMatchObject({ status: 'completed' });
      if (first.status !== 0) expect(retry.body.id).toBe(first.body.id);

      await waitUntil('webtoon grants the episode after the restart', 30_000, async () => {
        const status = await readPaid(token);
        if (status !== 200) throw new Error(`still ${status}`);
      });
      const mine = await json<{ items: unknown[] }>(url('payment', '/api/payment/payments'), { headers: { authorization: `Bearer ${token}` } });
      expect(mine.body.items).toHaveLength(1);
      expect(await copiesOnTheBus(String(retry.body.id))).toBe(copies);
      await waitUntil('analytics counts the payment', 30_000, async () => {
        if (((await totals())['payment.completed'] ?? 0) <= (before['payment.completed'] ?? 0)) throw new Error('not counted yet');
      });
      // Delivered once or twice, applied once.
      await new Promise((r) => setTimeout(r, 1_500));
      expect((await totals())['payment.completed']).toBe((before['payment.completed'] ?? 0) + 1);
      const entitlements = await json<{ items: { episodeId: string }[] }>(url('webtoon', '/api/webtoon/entitlements'), {
        headers: { authorization: `Bearer ${token}` },
      });
      expect(entitlements.body.items.map((e) => e.episodeId)).toEqual([PAID_EPISODE]);
    }, 120_000);
  });

  it('loses nothing when producer and consumer get SIGTERM under load', async () => {
    await settled();
    const before = await totals();
    const { token } = await signUp();
    const news = new pg.Client({ connectionString: databases.news });
    await news.connect();
    const published = async () => (await news.query<{ n: number }>('SELECT count(*)::int AS n FROM articles')).rows[0]?.n ?? 0;
    const already = await published();

    const target = 150;
    let created = 0;
    let failed = 0;
    const worker = async () => {
      while (created < target) {
        const res = await post(url('news', '/api/news/articles'), { title: `Load ${randomUUID()}`, body: 'Under load.', category: 'tech' }, { authorization: `Bearer ${token}` }).catch(
          () => ({ status: 0 }),
        );
        if (res.status === 201) created += 1;
        else {
          failed += 1;
          await new Promise((r) => setTimeout(r, 50));
        }
      }
    };
    const restarts = (async () => {
      await waitUntil('load under way', 30_000, async () => {
        if (created < 40) throw new Error(`${created} created`);
      });
      expect(await running.news.stop('SIGTERM')).toBe(0);
      await start('news');
      await waitUntil('more load', 30_000, async () => {
        if (created < 90) throw new Error(`${created} created`);
      });
      expect(await running.analytics.stop('SIGTERM')).toBe(0);
      await start('analytics');
    })();
    await Promise.all([restarts, ...Array.from({ length: 6 }, worker)]);

    const inDatabase = (await published()) - already;
    await news.end();
    expect(inDatabase).toBeGreaterThanOrEqual(target);
    await waitUntil('analytics counts every committed article', 60_000, async () => {
      const counted = ((await totals())['article.published'] ?? 0) - (before['article.published'] ?? 0);
      if (counted < inDatabase) throw new Error(`${counted}/${inDatabase} counted (${failed} requests failed while restarting)`);
    });
    await new Promise((r) => setTimeout(r, 1_500));
    expect(((await totals())['article.published'] ?? 0) - (before['article.published'] ?? 0)).toBe(inDatabase);
  }, 180_000);
});
