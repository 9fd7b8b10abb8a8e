import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '@portal/contracts';
import type { AnyDomainEvent } from '@portal/contracts';
import type { Page } from '@portal/contracts/api';
import type { Entitlement, EpisodeSummary, RankingItem, Series } from '@portal/contracts/api/webtoon';
import { openDatabase } from '@portal/db';
import type { Database } from '@portal/db';
import type { InMemoryEventBus } from '@portal/event-bus/memory';
import type { Host } from '@portal/host';
import { assertTooLarge, call, countRows, fakeAuth, openApiDrift, overLimit, startTestHost, walk } from '@portal/host/testing';
import { parseExposition, sampleSum } from '@portal/observability';
import { createDatabase, startPostgres } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { DEMO, createWebtoonDomain, webtoonDomain } from '../src/index.js';
import { textBytes } from '../src/bounded.cache.js';
import { ViewsService } from '../src/views.service.js';

const auth = await fakeAuth();
// Views are written when the test says so, not on a timer.
const webtoon = createWebtoonDomain({ viewFlushIntervalMs: 0 });

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.close();
});

describe('the webtoon API on PostgreSQL', () => {
  let host: Host;
  let db: Database;
  const creator = randomUUID();
  let creatorToken: string;
  let views: ViewsService;

  const publish = async (events: AnyDomainEvent[]) => {
    await host.bus.publish(events);
    await (host.bus as InMemoryEventBus).idle();
  };

  async function newSeries(title = 'A series'): Promise<Series> {
    const res = await call<Series>(host.url, 'POST', '/api/webtoon/series', { token: creatorToken, body: { title, synopsis: 'Things happen.' } });
    expect(res.status).toBe(201);
    return res.body;
  }

  async function newEpisode(seriesId: string, number: number, priceCents = 0): Promise<EpisodeSummary> {
    const res = await call<EpisodeSummary>(host.url, 'POST', `/api/webtoon/series/${seriesId}/episodes`, {
      token: creatorToken,
      body: { number, title: `Episode ${number}`, content: `The content of episode ${number}.`, priceCents },
    });
    expect(res.status).toBe(201);
    return res.body;
  }

  beforeAll(async () => {
    host = await startTestHost([auth.domain, webtoon], { WEBTOON_DATABASE_URL: await createDatabase(server, 'webtoon') });
    db = host.databases.get('webtoon')!;
    creatorToken = await auth.token(creator);
    views = host.app.get(ViewsService);
  });
  afterAll(async () => {
    await host?.close();
  });

  it('runs on a real PostgreSQL and documents exactly the routes it serves', async () => {
    expect(db.kind).toBe('postgres');
    expect(openApiDrift(host, webtoon)).toEqual({ undocumented: [], unserved: [] });
    const doc = (await call<{ paths: Record<string, unknown> }>(host.url, 'GET', '/api/webtoon/openapi.json')).body;
    expect(Object.keys(doc.paths)).toContain('/api/webtoon/episodes/{id}');
  });

  describe('series', () => {
    it('creates a series for the signed-in creator and reads it back', async () => {
      const res = await call<Series>(host.url, 'POST', '/api/webtoon/series', {
        token: creatorToken,
        body: { title: '  Moonlit Routes  ', synopsis: 'A courier learns the city.' },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({
        id: expect.any(String),
        title: 'Moonlit Routes',
        synopsis: 'A courier learns the city.',
        creatorId: creator,
        episodeCount: 0,
        views: 0,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT/),
      });
      const read = await call<Series>(host.url, 'GET', `/api/webtoon/series/${res.body.id}`);
      expect(read).toMatchObject({ status: 200, body: res.body });
    });

    it('defaults the synopsis to empty', async () => {
      const res = await call<Series>(host.url, 'POST', '/api/webtoon/series', { token: creatorToken, body: { title: 'Short' } });
      expect(res.status).toBe(201);
      expect(res.body.synopsis).toBe('');
    });

    it('needs a token to create', async () => {
      const res = await call(host.url, 'POST', '/api/webtoon/series', { body: { title: 'x' } });
      expect(res.status).toBe(401);
      expect(res.type).toContain('application/problem+json');
    });

    it('names each invalid field', async () => {
      const res = await call<{ errors: { field: string }[] }>(host.url, 'POST', '/api/webtoon/series', {
        token: creatorToken,
        body: { title: ' ', synopsis: 'x'.repeat(2001) },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e) => e.field).sort()).toEqual(['body.synopsis', 'body.title']);
      const long = await call<{ errors: { field: string }[] }>(host.url, 'POST', '/api/webtoon/series', {
        token: creatorToken,
        body: { title: 'x'.repeat(201) },
      });
      expect(long.body.errors.map((e) => e.field)).toEqual(['body.title']);
    });

    it('answers 404 for an unknown series and 400 for an id that is not one', async () => {
      const missing = randomUUID();
      const res = await call<{ detail: string }>(host.url, 'GET', `/api/webtoon/series/${missing}`);
      expect(res.status).toBe(404);
      expect(res.body.detail).toContain(missing);
      const bad = await call<{ errors: { field: string }[] }>(host.url, 'GET', '/api/webtoon/series/nope');
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]?.field).toBe('param.id');
    });

    it('pages through every series, newest first, with no repeats and no gaps', async () => {
      for (let i = 0; i < 7; i += 1) await newSeries(`Paged ${i}`);
      const { rows } = await db.query<{ id: string }>('SELECT id FROM series ORDER BY created_at DESC, id DESC');
      const walked = (await walk<Series>(host, '/api/webtoon/series', 3)).items;
      expect(walked.map((s) => s.id)).toEqual(rows.map((r) => r.id));
      expect(new Set(walked.map((s) => s.id)).size).toBe(walked.length);
      const times = walked.map((s) => Date.parse(s.createdAt));
      expect(times).toEqual([...times].sort((a, b) => b - a));
    });

    it('rejects a cursor it did not give out', async () => {
      const forged = Buffer.from(JSON.stringify(['yesterday', 'x'])).toString('base64url');
      // Well-formed, but a time PostgreSQL cannot hold: the query itself failed, a 500.
      const ancient = Buffer.from(JSON.stringify(['-271821-04-20T00:00:00.000Z', randomUUID()])).toString('base64url');
      for (const cursor of ['garbage', forged, ancient]) {
        const res = await call<{ errors: { field: string }[] }>(host.url, 'GET', `/api/webtoon/series?cursor=${cursor}`);
        expect(res.status).toBe(400);
        expect(res.body.errors[0]?.field).toBe('query.cursor');
      }
      const limit = await call<{ errors: { field: string }[] }>(host.url, 'GET', '/api/webtoon/series?limit=101');
      expect(limit.body.errors[0]?.field).toBe('query.limit');
    });
  });

  describe('episodes', () => {
    let series: Series;
    beforeAll(async () => {
      series = await newSeries('Episodic');
    });

    it('adds an episode, USD by default, and counts it on the series', async () => {
      const res = await call<EpisodeSummary>(host.url, 'POST', `/api/webtoon/series/${series.id}/episodes`, {
        token: creatorToken,
        body: { number: 1, title: 'Pilot', content: 'It begins.', priceCents: 0 },
      });
      expect(res.status).toBe(201);
      expect(res.body).toEqual({ id: expect.any(String), seriesId: series.id, number: 1, title: 'Pilot', priceCents: 0, currency: 'USD', free: true });
      const paid = await call<EpisodeSummary>(host.url, 'POST', `/api/webtoon/series/${series.id}/episodes`, {
        token: creatorToken,
        body: { number: 2, title: 'Second', content: 'It goes on.', priceCents: 250, currency: 'EUR' },
      });
      expect(paid.body).toMatchObject({ number: 2, priceCents: 250, currency: 'EUR', free: false });
      expect((await call<Series>(host.url, 'GET', `/api/webtoon/series/${series.id}`)).body.episodeCount).toBe(2);
    });

    it('names each invalid field', async () => {
      const res = await call<{ errors: { field: string }[] }>(host.url, 'POST', `/api/webtoon/series/${series.id}/episodes`, {
        token: creatorToken,
        body: { number: 0, title: '', content: '', priceCents: -1, currency: 'usd' },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors.map((e) => e.field).sort()).toEqual(['body.content', 'body.currency', 'body.number', 'body.priceCents', 'body.title']);
      const fractional = await call<{ errors: { field: string }[] }>(host.url, 'POST', `/api/webtoon/series/${series.id}/episodes`, {
        token: creatorToken,
        body: { number: 1.5, title: 't', content: 'c', priceCents: 2.5 },
      });
      expect(fractional.body.errors.map((e) => e.field).sort()).toEqual(['body.number', 'body.priceCents']);
    });

    it('refuses control characters in a title or content with a 400 naming the field, and writes nothing', async () => {
      const before = await countRows(db, ['series', 'episodes']);
      const title = await call<{ errors: { field: string; message: string }[] }>(host.url, 'POST', '/api/webtoon/series', {
        token: creatorToken,
        body: { title: 'Escape\u001b[2J', synopsis: 'fine' },
      });
      expect(title.status).toBe(400);
      expect(title.body.errors).toEqual([{ field: 'body.title', message: expect.stringContaining('U+001B') }]);
      const content = await call<{ errors: { field: string; message: string }[] }>(host.url, 'POST', `/api/webtoon/series/${series.id}/episodes`, {
        token: creatorToken,
        body: { number: 98, title: 't', content: 'panel\u0000two', priceCents: 0 },
      });
      expect(content.status).toBe(400);
      expect(content.body.errors).toEqual([{ field: 'body.content', message: expect.stringContaining('U+0000') }]);
      expect(await countRows(db, ['series', 'episodes'])).toEqual(before);
    });

    it('answers 413 with a problem to an episode over the body limit, and writes nothing', async () => {
      const before = await countRows(db, ['episodes', 'outbox']);
      const res = await call(host.url, 'POST', `/api/webtoon/series/${series.id}/episodes`, {
        token: creatorToken,
        body: { number: 99, title: 'Oversized', content: overLimit(), priceCents: 0 },
      });
      assertTooLarge(res);
      expect(await countRows(db, ['episodes', 'outbox'])).toEqual(before);
    });

    it('lets only the creator add episodes', async () => {
      const res = await call<{ detail: string }>(host.url, 'POST', `/api/webtoon/series/${series.id}/episodes`, {
        token: await auth.token(),
        body: { number: 9, title: 'Not mine', content: 'c', priceCents: 0 },
      });
      expect(res.status).toBe(403);
      expect(res.type).toContain('application/problem+json');
    });

    it('refuses a number the series already has', async () => {
      const res = await call<{ detail: string }>(host.url, 'POST', `/api/webtoon/series/${series.id}/episodes`, {
        token: creatorToken,
        body: { number: 1, title: 'Again', content: 'c', priceCents: 0 },
      });
      expect(res.status).toBe(409);
      expect(res.body.detail).toContain('1');
      expect((await call<Series>(host.url, 'GET', `/api/webtoon/series/${series.id}`)).body.episodeCount).toBe(2);
    });

    it('answers 404 for episodes of an unknown series, and for an unknown episode', async () => {
      const missing = randomUUID();
      const add = await call(host.url, 'POST', `/api/webtoon/series/${missing}/episodes`, {
        token: creatorToken,
        body: { number: 1, title: 't', content: 'c', priceCents: 0 },
      });
      expect(add.status).toBe(404);
      expect((await call(host.url, 'GET', `/api/webtoon/series/${missing}/episodes`)).status).toBe(404);
      expect((await call(host.url, 'GET', `/api/webtoon/episodes/${missing}`)).status).toBe(404);
      const bad = await call<{ errors: { field: string }[] }>(host.url, 'GET', '/api/webtoon/episodes/42');
      expect(bad.status).toBe(400);
      expect(bad.body.errors[0]?.field).toBe('param.id');
    });

    it('pages through episodes by number, with no repeats and no gaps', async () => {
      const many = await newSeries('Many episodes');
      for (const n of [4, 1, 7, 3, 2, 6, 5]) await newEpisode(many.id, n);
      const walked = (await walk<EpisodeSummary>(host, `/api/webtoon/series/${many.id}/episodes`, 2)).items;
      expect(walked.map((e) => e.number)).toEqual([1, 2, 3, 4, 5, 6, 7]);
      expect(walked.every((e) => e.seriesId === many.id && !('content' in e))).toBe(true);
      const empty = await newSeries('Nothing yet');
      expect(await call(host.url, 'GET', `/api/webtoon/series/${empty.id}/episodes`)).toMatchObject({ status: 200, body: { items: [] } });
    });

    it('rejects an episode cursor it did not give out, even one that parses, naming query.cursor', async () => {
      const list = `/api/webtoon/series/${series.id}/episodes`;
      // 1e20 is a whole number, but past an int column's range: the query itself failed, a 500.
      for (const key of [[1e20], [-1], [1.5], ['1'], [1, 2]]) {
        const res = await call<{ errors: { field: string }[] }>(host.url, 'GET', `${list}?cursor=${Buffer.from(JSON.stringify(key)).toString('base64url')}`);
        expect(res.status, JSON.stringify(key)).toBe(400);
        expect(res.body.errors.map((e) => e.field)).toEqual(['query.cursor']);
      }
    });
  });

  describe('reading and paying', () => {
    let series: Series;
    let free: EpisodeSummary;
    let paid: EpisodeSummary;
    const reader = randomUUID();
    let readerToken: string;

    const paymentEvent = (
      name: 'payment.completed' | 'payment.refunded',
      fields: { paymentId?: string; userId?: string; episodeId?: string; amountCents?: number; currency?: string } = {},
    ) => {
      const paymentId = fields.paymentId ?? randomUUID();
      return createEvent(
        name,
        {
          paymentId,
          userId: fields.userId ?? reader,
          item: { type: 'episode', id: fields.episodeId ?? paid.id },
          amountCents: fields.amountCents ?? 300,
          currency: fields.currency ?? 'USD',
        },
        { aggregateId: paymentId, traceId: 'test' },
      );
    };
    const readPaid = (token?: string) => call<Record<string, unknown>>(host.url, 'GET', `/api/webtoon/episodes/${paid.id}`, token === undefined ? {} : { token });
    const grants = async (userId: string) =>
      (await db.query<{ payment_id: string }>('SELECT payment_id FROM entitlements WHERE user_id = $1 AND episode_id = $2', [userId, paid.id])).rows;

    beforeAll(async () => {
      series = await newSeries('Paid and free');
      free = await newEpisode(series.id, 1);
      paid = await newEpisode(series.id, 2, 300);
      readerToken = await auth.token(reader);
    });

    it('serves a free episode without a token, with its content', async () => {
      for (let i = 0; i < 2; i += 1) {
        const res = await call(host.url, 'GET', `/api/webtoon/episodes/${free.id}`);
        expect(res.status).toBe(200);
        expect(res.type).toContain('application/json');
        expect(res.body).toEqual({ id: free.id, seriesId: series.id, number: 1, title: 'Episode 1', content: 'The content of episode 1.', priceCents: 0, currency: 'USD' });
      }
    });

    it('answers a free episode it has served before without the database', async () => {
      await db.exec('ALTER TABLE episodes RENAME TO episodes_away');
      try {
        expect((await call(host.url, 'GET', `/api/webtoon/episodes/${free.id}`)).status).toBe(200);
      } finally {
        await db.exec('ALTER TABLE episodes_away RENAME TO episodes');
      }
    });

    it('checks a token that is sent, even for a free episode', async () => {
      expect((await call(host.url, 'GET', `/api/webtoon/episodes/${free.id}`, { token: readerToken })).status).toBe(200);
      const forged = await call(host.url, 'GET', `/api/webtoon/episodes/${free.id}`, { token: 'aaa.bbb.ccc' });
      expect(forged.status).toBe(401);
      const malformed = await call(host.url, 'GET', `/api/webtoon/episodes/${free.id}`, { headers: { authorization: 'Basic dXNlcjpwdw==' } });
      expect(malformed.status).toBe(401);
    });

    it('asks for a token for a paid episode, then for payment', async () => {
      const anonymous = await readPaid();
      expect(anonymous.status).toBe(401);
      expect(anonymous.type).toContain('application/problem+json');
      const unpaid = await readPaid(readerToken);
      expect(unpaid.status).toBe(402);
      expect(unpaid.type).toContain('application/problem+json');
      expect(unpaid.body).toMatchObject({ status: 402, title: 'Payment Required' });
      expect(unpaid.body.detail).toContain('3.00 USD');
      expect(unpaid.body.detail).toContain('POST /api/payment/payments');
      expect(unpaid.body.detail).toContain(`{"type":"episode","id":"${paid.id}"}`);
    });

    it('unlocks a paid episode once a covering payment completes, once however often it is delivered', async () => {
      const event = paymentEvent('payment.completed');
      await publish([event]);
      const res = await readPaid(readerToken);
      expect(res.status).toBe(200);
      expect(res.body).toMatchObject({ id: paid.id, content: 'The content of episode 2.', priceCents: 300 });
      await publish([event]);
      expect(await grants(reader)).toEqual([{ payment_id: event.payload.paymentId }]);
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM inbox WHERE consumer_group = 'webtoon' AND event_id = $1", [event.id]);
      expect(rows[0]?.n).toBe(1);

      const list = await call<Page<Entitlement>>(host.url, 'GET', '/api/webtoon/entitlements', { token: readerToken });
      expect(list.status).toBe(200);
      expect(list.body.items).toEqual([{ episodeId: paid.id, seriesId: series.id, grantedAt: expect.any(String), paymentId: event.payload.paymentId }]);
      // Another payment for the same episode keeps the first grant.
      await publish([paymentEvent('payment.completed')]);
      expect(await grants(reader)).toEqual([{ payment_id: event.payload.paymentId }]);
    });

    it('grants nothing for a payment that does not cover the price, in another currency, or for an unknown episode', async () => {
      const other = randomUUID();
      const otherToken = await auth.token(other);
      await publish([
        paymentEvent('payment.completed', { userId: other, amountCents: 299 }),
        paymentEvent('payment.completed', { userId: other, currency: 'EUR' }),
        paymentEvent('payment.completed', { userId: other, episodeId: randomUUID() }),
      ]);
      expect(await grants(other)).toEqual([]);
      expect((await readPaid(otherToken)).status).toBe(402);
      expect((host.bus as InMemoryEventBus).deadLetters).toEqual([]);
    });

    it('revokes an entitlement when the payment that granted it is refunded, and only then', async () => {
      const buyer = randomUUID();
      const buyerToken = await auth.token(buyer);
      const payment = paymentEvent('payment.completed', { userId: buyer, amountCents: 500 });
      await publish([payment]);
      expect((await readPaid(buyerToken)).status).toBe(200);

      await publish([paymentEvent('payment.refunded', { userId: buyer })]);
      expect((await readPaid(buyerToken)).status).toBe(200);

      await publish([paymentEvent('payment.refunded', { userId: buyer, paymentId: payment.payload.paymentId, amountCents: 500 })]);
      expect(await grants(buyer)).toEqual([]);
      expect((await readPaid(buyerToken)).status).toBe(402);
      const list = await call<Page<Entitlement>>(host.url, 'GET', '/api/webtoon/entitlements', { token: buyerToken });
      expect(list.body.items).toEqual([]);
    });

    it('lists only the signed-in reader’s entitlements, page by page', async () => {
      expect((await call(host.url, 'GET', '/api/webtoon/entitlements')).status).toBe(401);
      const collector = randomUUID();
      const token = await auth.token(collector);
      const bought: string[] = [];
      for (let n = 10; n < 15; n += 1) {
        const episode = await newEpisode(series.id, n, 100);
        bought.push(episode.id);
        await publish([paymentEvent('payment.completed', { userId: collector, episodeId: episode.id, amountCents: 100 })]);
      }
      const { items, pages } = await walk<Entitlement>(host, '/api/webtoon/entitlements', 2, { token });
      expect(items.map((e) => e.episodeId).sort()).toEqual([...bought].sort());
      expect(pages).toBe(3);
    });
  });

  describe('views and rankings', () => {
    let series: Series;
    let first: EpisodeSummary;
    let second: EpisodeSummary;

    const read = async (episodeId: string, times: number) => {
      for (let i = 0; i < times; i += 1) expect((await call(host.url, 'GET', `/api/webtoon/episodes/${episodeId}`)).status).toBe(200);
    };
    const viewedEvents = async (episodeId: string) =>
      (
        await db.query<{ event: AnyDomainEvent & { name: 'episode.viewed' } }>(
          "SELECT event FROM outbox WHERE name = 'episode.viewed' AND aggregate_id = $1 ORDER BY seq",
          [episodeId],
        )
      ).rows.map((r) => r.event);

    const scrape = async () => parseExposition(await (await fetch(`${host.url}/metrics`)).text());
    const viewsCounted = async () => sampleSum(await scrape(), 'portal_webtoon_episode_views_total');

    beforeAll(async () => {
      series = await newSeries('Much read');
      first = await newEpisode(series.id, 1);
      second = await newEpisode(series.id, 2, 100);
      await views.flushViews();
    });

    it('counts reads in memory and writes them in one flush, with one event per episode', async () => {
      const counted = await viewsCounted();
      await read(first.id, 5);
      // Refused reads are not views.
      expect((await call(host.url, 'GET', `/api/webtoon/episodes/${second.id}`)).status).toBe(401);
      const { rows: before } = await db.query<{ views: number }>('SELECT views FROM episodes WHERE id = $1', [first.id]);
      expect(before[0]?.views).toBe(0);

      await views.flushViews();
      const { rows } = await db.query<{ id: string; views: number }>('SELECT id, views FROM episodes WHERE series_id = $1 ORDER BY number', [series.id]);
      expect(rows.map((r) => r.views)).toEqual([5, 0]);
      expect((await call<Series>(host.url, 'GET', `/api/webtoon/series/${series.id}`)).body.views).toBe(5);

      const events = await viewedEvents(first.id);
      expect(events).toHaveLength(1);
      expect(events[0]).toMatchObject({ name: 'episode.viewed', aggregateId: first.id, payload: { episodeId: first.id, seriesId: series.id, views: 5 } });
      const { windowStart, windowEnd } = events[0]!.payload;
      expect(Date.parse(windowStart)).toBeLessThanOrEqual(Date.parse(windowEnd));
      expect(await viewedEvents(second.id)).toEqual([]);
      expect(views.pending).toBe(0);
      // The metric counts views once written, like the database.
      expect((await viewsCounted()) - counted).toBe(5);
      // The hot read (a direct route) is counted under its template, whichever episode was read.
      const samples = await scrape();
      expect(sampleSum(samples, 'portal_http_requests_total', { method: 'GET', route: '/api/webtoon/episodes/:id', status: '200' })).toBeGreaterThanOrEqual(5);
      expect(samples.some((s) => Object.values(s.labels).some((v) => v.includes(first.id) || v.includes(second.id)))).toBe(false);
    });

    it('keeps the views of a flush that failed and writes them with the next', async () => {
      const counted = await viewsCounted();
      await read(first.id, 2);
      await db.exec('ALTER TABLE series RENAME TO series_away');
      try {
        await expect(views.flushViews()).rejects.toThrow();
        expect(views.pending).toBe(2);
        expect(await viewsCounted()).toBe(counted);
        await read(first.id, 1);
      } finally {
        await db.exec('ALTER TABLE series_away RENAME TO series');
      }
      await views.flushViews();
      const { rows } = await db.query<{ views: number }>('SELECT views FROM episodes WHERE id = $1', [first.id]);
      expect(rows[0]?.views).toBe(8);
      const events = await viewedEvents(first.id);
      expect(events.map((e) => e.payload.views)).toEqual([5, 3]);
      expect(events.reduce((sum, e) => sum + e.payload.views, 0)).toBe(8);
      expect((await viewsCounted()) - counted).toBe(3);
    });

    it('publishes the events through the outbox', async () => {
      await host.flushOutboxes();
      const { rows } = await db.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE name = 'episode.viewed' AND published_at IS NULL");
      expect(rows[0]?.n).toBe(0);
    });

    it('ranks series by views, walking pages with no repeats and no gaps', async () => {
      const top = await newSeries('Most read');
      const episode = await newEpisode(top.id, 1);
      await read(episode.id, 12);
      await views.flushViews();

      const first = await call<Page<RankingItem>>(host.url, 'GET', '/api/webtoon/rankings?limit=1');
      expect(first.body.items).toEqual([{ seriesId: top.id, title: 'Most read', views: 12, rank: 1 }]);

      const walked = (await walk<RankingItem>(host, '/api/webtoon/rankings', 3)).items;
      const { rows } = await db.query<{ id: string; views: number }>('SELECT id, views FROM series ORDER BY views DESC, id DESC');
      expect(walked.map((r) => r.seriesId)).toEqual(rows.map((r) => r.id));
      expect(walked.map((r) => r.views)).toEqual(rows.map((r) => r.views));
      // Equal views share a rank: 1 + the number of series with more views.
      for (const item of walked) expect(item.rank).toBe(1 + rows.filter((r) => r.views > item.views).length);
      expect(walked.find((r) => r.seriesId === series.id)).toMatchObject({ views: 8, rank: 2 });
    });
  });

  it('adds the demo content once, and writes the views still counted when it shuts down', async () => {
    const url = await createDatabase(server, 'webtoon_demo');
    const env = { WEBTOON_DATABASE_URL: url, SEED_DEMO_DATA: 'true' };
    const first = await startTestHost([auth.domain, webtoonDomain], env);
    const list = await call<Page<Series>>(first.url, 'GET', '/api/webtoon/series');
    expect(list.body.items.map((s) => s.id)).toEqual([DEMO.seriesId, DEMO.secondSeriesId]);
    expect(list.body.items[0]).toMatchObject({ title: 'The Gateway Chronicles', creatorId: DEMO.creatorId, episodeCount: 3 });
    const episodes = await call<Page<EpisodeSummary>>(first.url, 'GET', `/api/webtoon/series/${DEMO.seriesId}/episodes`);
    expect(episodes.body.items.map((e) => [e.id, e.free])).toEqual([
      [DEMO.episode1Id, true],
      [DEMO.episode2Id, true],
      [DEMO.episode3Id, false],
    ]);
    expect(episodes.body.items[2]).toMatchObject({ priceCents: DEMO.paidEpisode.priceCents, currency: DEMO.paidEpisode.currency });
    for (let i = 0; i < 3; i += 1) expect((await call(first.url, 'GET', `/api/webtoon/episodes/${DEMO.episode1Id}`)).status).toBe(200);
    await first.close();

    const second = await startTestHost([auth.domain, webtoonDomain], env);
    await second.close();
    const check = await openDatabase({ url });
    try {
      const counts = await check.query<{ series: number; episodes: number }>(
        'SELECT (SELECT count(*) FROM series)::int AS series, (SELECT count(*) FROM episodes)::int AS episodes',
      );
      expect(counts.rows[0]).toEqual({ series: 2, episodes: 5 });
      const viewed = await check.query<{ views: number }>('SELECT views FROM episodes WHERE id = $1', [DEMO.episode1Id]);
      expect(viewed.rows[0]?.views).toBe(3);
      const events = await check.query<{ n: number }>("SELECT count(*)::int AS n FROM outbox WHERE name = 'episode.viewed' AND aggregate_id = $1", [
        DEMO.episode1Id,
      ]);
      expect(events.rows[0]?.n).toBe(1);
    } finally {
      await check.close();
    }
  });
});

describe('the webtoon API on an embedded database', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startTestHost([auth.domain, webtoon], { SEED_DEMO_DATA: 'true' });
  });
  afterAll(async () => {
    await host?.close();
  });

  it('serves the demo content, locks the paid episode, and counts views', async () => {
    expect(host.databases.get('webtoon')!.kind).toBe('embedded');
    const free = await call(host.url, 'GET', `/api/webtoon/episodes/${DEMO.episode1Id}`);
    expect(free).toMatchObject({ status: 200, body: { id: DEMO.episode1Id, seriesId: DEMO.seriesId, number: 1, priceCents: 0 } });
    const token = await auth.token();
    expect((await call(host.url, 'GET', `/api/webtoon/episodes/${DEMO.episode3Id}`)).status).toBe(401);
    expect((await call(host.url, 'GET', `/api/webtoon/episodes/${DEMO.episode3Id}`, { token })).status).toBe(402);

    await host.app.get(ViewsService).flushViews();
    const rankings = await call<Page<RankingItem>>(host.url, 'GET', '/api/webtoon/rankings');
    expect(rankings.body.items).toEqual([
      { seriesId: DEMO.seriesId, title: 'The Gateway Chronicles', views: 1, rank: 1 },
      { seriesId: DEMO.secondSeriesId, title: 'Night Market Detectives', views: 0, rank: 2 },
    ]);
    expect(openApiDrift(host, webtoon)).toEqual({ undocumented: [], unserved: [] });
  });
});

describe('the webtoon read path and WEBTOON_CACHE', () => {
  /**
   * Reads the free demo episode and, as an entitled reader, the paid one; then
   * changes both behind the service's back (new content, entitlement gone) and
   * reads them again: a cache answers the second time as it did the first.
   */
  async function readTwice(env: Record<string, string>) {
    const host = await startTestHost([auth.domain, webtoon], { SEED_DEMO_DATA: 'true', ...env });
    try {
      const db = host.databases.get('webtoon')!;
      const reader = randomUUID();
      const token = await auth.token(reader);
      await db.query('INSERT INTO entitlements (user_id, episode_id, payment_id) VALUES ($1, $2, $3)', [reader, DEMO.episode3Id, randomUUID()]);
      const read = async () => [
        (await call<{ content: string }>(host.url, 'GET', `/api/webtoon/episodes/${DEMO.episode1Id}`)).body.content,
        (await call(host.url, 'GET', `/api/webtoon/episodes/${DEMO.episode3Id}`, { token })).status,
      ];
      const first = await read();
      await db.query("UPDATE episodes SET content = 'rewritten' WHERE id = $1", [DEMO.episode1Id]);
      await db.query('DELETE FROM entitlements WHERE user_id = $1', [reader]);
      return { first, second: await read() };
    } finally {
      await host.close();
    }
  }

  it('answers from memory by default, and from the database on every read with WEBTOON_CACHE=off', async () => {
    const cached = await readTwice({});
    expect(cached.first).toEqual([expect.any(String), 200]);
    expect(cached.first[0]).not.toBe('rewritten');
    expect(cached.second).toEqual(cached.first);

    const uncached = await readTwice({ WEBTOON_CACHE: 'off' });
    expect(uncached.first).toEqual(cached.first);
    expect(uncached.second).toEqual(['rewritten', 402]);
  });

  it('takes an id in either case as the same episode: one cache entry, one answer, a lower-case id', async () => {
    const host = await startTestHost([auth.domain, webtoon], {});
    try {
      const token = await auth.token(randomUUID());
      const series = (await call<Series>(host.url, 'POST', '/api/webtoon/series', { token, body: { title: 'Cased' } })).body;
      const add = (number: number, priceCents: number) =>
        call<EpisodeSummary>(host.url, 'POST', `/api/webtoon/series/${series.id}/episodes`, { token, body: { number, title: 't', content: 'first words', priceCents } });
      const free = (await add(1, 0)).body;
      const paid = (await add(2, 300)).body;
      const upper = free.id.toUpperCase();
      expect(upper).not.toBe(free.id);
      const before = await call<{ id: string; content: string }>(host.url, 'GET', `/api/webtoon/episodes/${free.id}`);
      expect(before.body.content).toBe('first words');
      // Changed behind the service's back: only an answer from the same cache entry still has the old content.
      await host.databases.get('webtoon')!.query("UPDATE episodes SET content = 'changed' WHERE id = $1", [free.id]);
      const res = await call<{ id: string; content: string }>(host.url, 'GET', `/api/webtoon/episodes/${upper}`);
      expect(res.status).toBe(200);
      expect(res.body).toEqual(before.body);

      const seriesRead = await call<Series>(host.url, 'GET', `/api/webtoon/series/${series.id.toUpperCase()}`);
      expect(seriesRead.status).toBe(200);
      expect(seriesRead.body.id).toBe(series.id);
      expect((await call(host.url, 'GET', `/api/webtoon/episodes/${paid.id.toUpperCase()}`)).status).toBe(401);
      expect((await call(host.url, 'GET', `/api/webtoon/episodes/${randomUUID().toUpperCase()}`)).status).toBe(404);
    } finally {
      await host.close();
    }
  });

  it('keeps episodes up to a budget of bytes, dropping the oldest read first', async () => {
    const sizes: number[] = [];
    const measure = await startTestHost([auth.domain, webtoon], { SEED_DEMO_DATA: 'true' });
    try {
      for (const id of [DEMO.episode1Id, DEMO.episode2Id]) sizes.push(textBytes(id, await (await fetch(`${measure.url}/api/webtoon/episodes/${id}`)).text()));
    } finally {
      await measure.close();
    }
    // Room for either episode, not for both.
    const budget = Math.max(...sizes);
    expect(budget).toBeLessThan(sizes[0]! + sizes[1]!);
    const host = await startTestHost([auth.domain, createWebtoonDomain({ viewFlushIntervalMs: 0, episodeCacheBytes: budget })], { SEED_DEMO_DATA: 'true' });
    try {
      const db = host.databases.get('webtoon')!;
      const content = async (id: string) => (await call<{ content: string }>(host.url, 'GET', `/api/webtoon/episodes/${id}`)).body.content;
      const first = [await content(DEMO.episode1Id), await content(DEMO.episode2Id)];
      await db.query("UPDATE episodes SET content = 'rewritten' WHERE id = ANY($1)", [[DEMO.episode1Id, DEMO.episode2Id]]);
      // Episode 2 is still in memory; episode 1 was dropped to make room for it, so it is read again.
      expect(await content(DEMO.episode2Id)).toBe(first[1]);
      expect(await content(DEMO.episode1Id)).toBe('rewritten');
    } finally {
      await host.close();
    }
  });

  it('refuses a value it does not know, naming the variable', async () => {
    await expect(startTestHost([auth.domain, webtoon], { WEBTOON_CACHE: 'maybe' })).rejects.toThrow(/WEBTOON_CACHE: .*\(got 'maybe'\)/);
  });
});
