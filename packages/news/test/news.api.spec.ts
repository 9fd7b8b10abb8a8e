import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Problem } from '@portal/contracts/api';
import { NEWS_CATEGORIES } from '@portal/contracts/api/news';
import type { Article, Category } from '@portal/contracts/api/news';
import type { Database } from '@portal/db';
import type { Host } from '@portal/host';
import { assertTooLarge, call, countRows, fakeAuth, fieldsOf, openApiDrift, overLimit, readOutbox, startTestHost, walk } from '@portal/host/testing';
import { encodeCursor } from '@portal/http';
import { createDatabase, startPostgres, waitUntil } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { NEWS_DEMO, newsDomain } from '../src/index.js';
import { seedDemoArticles } from '../src/demo.seed.js';

const auth = await fakeAuth();
const SLUGS = 'culture, sports, tech, world';

/** Newest first, as the list orders them. */
const newestFirst = (a: Article, b: Article) =>
  b.publishedAt.localeCompare(a.publishedAt) || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0);

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.close();
});

describe('the news API on PostgreSQL', () => {
  let host: Host;
  let db: Database;
  const author = randomUUID();
  let token: string;
  /** Every article this suite published, in order. */
  const published: Article[] = [];

  async function publish(body: Record<string, unknown>, headers: Record<string, string> = {}): Promise<Article> {
    const res = await call<Article>(host.url, 'POST', '/api/news/articles', { token, body, headers });
    expect(res.status).toBe(201);
    published.push(res.body);
    return res.body;
  }

  beforeAll(async () => {
    host = await startTestHost([auth.domain, newsDomain], { NEWS_DATABASE_URL: await createDatabase(server, 'news') });
    db = host.databases.get('news')!;
    token = await auth.token(author);
  });
  afterAll(async () => {
    await host?.close();
  });

  it('runs on a real PostgreSQL and documents exactly the routes it serves', async () => {
    expect(db.kind).toBe('postgres');
    expect(openApiDrift(host, newsDomain)).toEqual({ undocumented: [], unserved: [] });
    const doc = await call<{ paths: Record<string, unknown> }>(host.url, 'GET', '/api/news/openapi.json');
    expect(Object.keys(doc.body.paths).sort()).toEqual(['/api/news/articles', '/api/news/articles/{id}', '/api/news/categories']);
  });

  describe('categories', () => {
    it("lists the fixed set by slug: the contract's NEWS_CATEGORIES, which the API documents", async () => {
      const res = await call<Page<Category>>(host.url, 'GET', '/api/news/categories');
      expect(res.body.items.map((c) => c.slug)).toEqual([...NEWS_CATEGORIES]);
      expect(res).toMatchObject({
        status: 200,
        body: {
          items: [
            { slug: 'culture', name: 'Culture' },
            { slug: 'sports', name: 'Sports' },
            { slug: 'tech', name: 'Tech' },
            { slug: 'world', name: 'World' },
          ],
        },
      });
      expect(res.body.nextCursor).toBeUndefined();
    });

    it('pages through them with a cursor, without repeats or gaps', async () => {
      const { items, pages } = await walk<Category>(host, '/api/news/categories', 1);
      expect(items.map((c) => c.slug)).toEqual(['culture', 'sports', 'tech', 'world']);
      expect(pages).toBe(4);
      const three = await walk<Category>(host, '/api/news/categories', 3);
      expect(three.items.map((c) => c.slug)).toEqual(['culture', 'sports', 'tech', 'world']);
      expect(three.pages).toBe(2);
    });

    it('refuses a garbage cursor and a bad limit, naming the field', async () => {
      const garbage = await call<Problem>(host.url, 'GET', '/api/news/categories?cursor=%%%garbage');
      expect(garbage.status).toBe(400);
      expect(garbage.type).toMatch(/^application\/problem\+json/);
      expect(fieldsOf(garbage)).toEqual(['query.cursor']);
      // Another list's cursor (a time and an id) is not a slug.
      expect(fieldsOf(await call(host.url, 'GET', `/api/news/categories?cursor=${encodeCursor([new Date(), randomUUID()])}`))).toEqual(['query.cursor']);
      // Well-formed but for a NUL, which would reach the query: PostgreSQL refuses it there, a 500.
      const nul = await call(host.url, 'GET', `/api/news/categories?cursor=${encodeURIComponent('tech\u0000')}`);
      expect(nul.status).toBe(400);
      expect(fieldsOf(nul)).toEqual(['query.cursor']);
      expect(fieldsOf(await call(host.url, 'GET', '/api/news/categories?limit=0'))).toEqual(['query.limit']);
      expect(fieldsOf(await call(host.url, 'GET', '/api/news/categories?limit=101'))).toEqual(['query.limit']);
      expect(fieldsOf(await call(host.url, 'GET', '/api/news/categories?limit=many'))).toEqual(['query.limit']);
    });
  });

  describe('publishing', () => {
    it('publishes an article by the signed-in user, reads it back, and appends article.published with the request id', async () => {
      const article = await publish(
        { title: '  Rain expected  ', body: 'Bring an umbrella tomorrow.', category: 'world' },
        { 'x-request-id': 'news-trace-1' },
      );
      expect(article).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        title: 'Rain expected',
        body: 'Bring an umbrella tomorrow.',
        category: 'world',
        authorId: author,
        publishedAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      expect(await call(host.url, 'GET', `/api/news/articles/${article.id}`)).toMatchObject({ status: 200, body: article });

      const rows = (await readOutbox(db)).filter((r) => r.aggregateId === article.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.name).toBe('article.published');
      expect(rows[0]!.event).toMatchObject({
        name: 'article.published',
        version: 1,
        aggregateId: article.id,
        traceId: 'news-trace-1',
        occurredAt: article.publishedAt,
        payload: { articleId: article.id, authorId: author, category: 'world', title: 'Rain expected' },
      });
      // The nudge after commit sends it without waiting for the relay's next poll.
      await waitUntil('the event relayed', 5_000, async () => {
        const row = (await readOutbox(db)).find((r) => r.aggregateId === article.id);
        if (!row?.publishedAt) throw new Error('not relayed yet');
      });
    });

    it('refuses an unknown category on body.category, naming the slugs there are', async () => {
      const res = await call<Problem>(host.url, 'POST', '/api/news/articles', {
        token,
        body: { title: 'Lost', body: 'Nowhere to go.', category: 'weather' },
      });
      expect(res.status).toBe(400);
      expect(res.body.errors).toEqual([{ field: 'body.category', message: `unknown category 'weather'; expected one of: ${SLUGS}` }]);
    });

    it.each([
      ['nothing at all', {}, ['body.title', 'body.body', 'body.category']],
      ['a title of the wrong type', { title: 5, body: 'b', category: 'tech' }, ['body.title']],
      ['a blank title', { title: '   ', body: 'b', category: 'tech' }, ['body.title']],
      ['a title over 200 characters', { title: 't'.repeat(201), body: 'b', category: 'tech' }, ['body.title']],
      ['an empty body', { title: 't', body: '', category: 'tech' }, ['body.body']],
      ['a blank body', { title: 't', body: ' \n ', category: 'tech' }, ['body.body']],
      ['a body over 20000 characters', { title: 't', body: 'b'.repeat(20_001), category: 'tech' }, ['body.body']],
      ['a category of the wrong type', { title: 't', body: 'b', category: ['tech'] }, ['body.category']],
      ['an empty category', { title: 't', body: 'b', category: '' }, ['body.category']],
    ])('refuses %s with a 400 naming the fields', async (_, body, fields) => {
      const res = await call<Problem>(host.url, 'POST', '/api/news/articles', { token, body });
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(fieldsOf(res)).toEqual(fields);
    });

    it.each([
      ['a NUL byte in the body', { title: 't', body: 'before\u0000after', category: 'tech' }, 'body.body', 'U+0000'],
      ['an escape character in the title', { title: 'bell\u001b[31m', body: 'b', category: 'tech' }, 'body.title', 'U+001B'],
      ['DEL in the title', { title: 'del\u007f', body: 'b', category: 'tech' }, 'body.title', 'U+007F'],
      ['a lone surrogate in the body', { title: 't', body: 'half \ud83d of a pair', category: 'tech' }, 'body.body', 'U+D83D'],
      // The category is one of a closed set: the enum refuses it before the text rule looks.
      ['a control character in the category', { title: 't', body: 'b', category: 'tech\u0001' }, 'body.category', 'unknown category'],
    ])('refuses %s with a 400 naming the field, and stores nothing', async (_, body, field, code) => {
      const before = await countRows(db, ['articles', 'outbox']);
      const res = await call<Problem>(host.url, 'POST', '/api/news/articles', { token, body });
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(res.body.errors).toEqual([{ field, message: expect.stringContaining(code) }]);
      expect(await countRows(db, ['articles', 'outbox'])).toEqual(before);
    });

    it('keeps tabs, line feeds, carriage returns and emoji in a body as sent', async () => {
      const article = await publish({ title: 'Lines', body: 'one\r\ntwo\tcolumns\nthree 🎉', category: 'tech' });
      expect(article.body).toBe('one\r\ntwo\tcolumns\nthree 🎉');
      expect((await call<Article>(host.url, 'GET', `/api/news/articles/${article.id}`)).body.body).toBe(article.body);
    });

    it('accepts the longest title and body', async () => {
      const article = await publish({ title: 't'.repeat(200), body: 'b'.repeat(20_000), category: 'tech' });
      expect(article.title).toHaveLength(200);
      expect(article.body).toHaveLength(20_000);
    });

    it('answers 413 with a problem to an article over the body limit, and writes nothing', async () => {
      const before = await countRows(db, ['articles', 'outbox']);
      const res = await call(host.url, 'POST', '/api/news/articles', { token, body: { title: 'Oversized', body: overLimit(), category: 'tech' } });
      assertTooLarge(res);
      expect(await countRows(db, ['articles', 'outbox'])).toEqual(before);
    });

    it('refuses a body that is not an object', async () => {
      const res = await call<Problem>(host.url, 'POST', '/api/news/articles', { token, raw: '[1, 2]' });
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(['body']);
    });

    it('needs a valid bearer token', async () => {
      const body = { title: 'Anonymous', body: 'Who wrote this?', category: 'tech' };
      const none = await call<Problem>(host.url, 'POST', '/api/news/articles', { body });
      expect(none.status).toBe(401);
      expect(none.body.detail).toMatch(/header\.authorization/);
      const forged = await call(host.url, 'POST', '/api/news/articles', { body, token: `${token.slice(0, -4)}AAAA` });
      expect(forged.status).toBe(401);
      const other = await fakeAuth();
      expect((await call(host.url, 'POST', '/api/news/articles', { body, token: await other.token() })).status).toBe(401);
      const { rows } = await db.query("SELECT 1 FROM articles WHERE title = 'Anonymous'");
      expect(rows).toHaveLength(0);
    });
  });

  describe('reading', () => {
    it('answers 404 for an unknown article and 400 param.id for a malformed id', async () => {
      const id = randomUUID();
      const missing = await call<Problem>(host.url, 'GET', `/api/news/articles/${id}`);
      expect(missing.status).toBe(404);
      expect(missing.body.detail).toBe(`article ${id} does not exist`);
      const malformed = await call<Problem>(host.url, 'GET', '/api/news/articles/not-a-uuid');
      expect(malformed.status).toBe(400);
      expect(fieldsOf(malformed)).toEqual(['param.id']);
    });

    it('lists newest first and pages through more articles than one page, without repeats or gaps', async () => {
      const categories = ['world', 'tech', 'culture', 'sports'];
      for (let i = 0; i < 23; i += 1) {
        await publish({ title: `Story ${i}`, body: `Body ${i}.`, category: categories[i % 4] });
      }
      const { items, pages } = await walk<Article>(host, '/api/news/articles', 7);
      expect(new Set(items.map((a) => a.id)).size).toBe(items.length);
      expect(items).toEqual([...published].sort(newestFirst));
      expect(items).toHaveLength(26);
      expect(pages).toBe(4);
      expect(items[0]!.title).toBe('Story 22');
    });

    it('filters by category, paging the same way', async () => {
      const { items } = await walk<Article>(host, '/api/news/articles?category=sports', 2);
      expect(items.length).toBeGreaterThan(2);
      expect(items).toEqual(published.filter((a) => a.category === 'sports').sort(newestFirst));
    });

    it('refuses an unknown category filter, a garbage cursor and a bad limit, naming the field', async () => {
      const unknown = await call<Problem>(host.url, 'GET', '/api/news/articles?category=weather');
      expect(unknown.status).toBe(400);
      expect(unknown.body.errors).toEqual([{ field: 'query.category', message: `unknown category 'weather'; expected one of: ${SLUGS}` }]);
      for (const cursor of ['garbage', encodeCursor(['yesterday', randomUUID()]), encodeCursor(['2025-01-01T00:00:00.000Z', 'x']), encodeCursor([1, 2])]) {
        const res = await call(host.url, 'GET', `/api/news/articles?cursor=${encodeURIComponent(cursor)}`);
        expect(res.status).toBe(400);
        expect(fieldsOf(res)).toEqual(['query.cursor']);
      }
      expect(fieldsOf(await call(host.url, 'GET', '/api/news/articles?limit=101'))).toEqual(['query.limit']);
      expect(fieldsOf(await call(host.url, 'GET', '/api/news/articles?category=tech%00'))).toEqual(['query.category']);
    });
  });

  it('holds exactly one article.published per article published, and nothing for refused requests', async () => {
    const rows = await readOutbox(db);
    expect(rows.map((r) => r.name)).toEqual(published.map(() => 'article.published'));
    expect(rows.map((r) => r.aggregateId)).toEqual(published.map((a) => a.id));
    expect(rows.map((r) => r.event.payload)).toEqual(
      published.map((a) => ({ articleId: a.id, authorId: author, category: a.category, title: a.title })),
    );
    await host.flushOutboxes();
    expect((await readOutbox(db)).every((r) => r.publishedAt !== null)).toBe(true);
  });
});

describe('the news API on an embedded database, with demo data', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startTestHost([auth.domain, newsDomain], { SEED_DEMO_DATA: 'true' });
  });
  afterAll(async () => {
    await host?.close();
  });

  it('seeds the demo articles once, with their events, and publishes more', async () => {
    const db = host.databases.get('news')!;
    expect(db.kind).toBe('embedded');
    const demo = await call<Page<Article>>(host.url, 'GET', '/api/news/articles');
    expect(demo.body.items.map((a) => a.id)).toEqual([...NEWS_DEMO.articleIds].reverse());
    expect(demo.body.items.every((a) => a.authorId === NEWS_DEMO.authorId)).toBe(true);
    expect(await seedDemoArticles(db)).toBe(false);

    const article = await call<Article>(host.url, 'POST', '/api/news/articles', {
      token: await auth.token(),
      body: { title: 'Embedded too', body: 'Same code, other storage.', category: 'tech' },
    });
    expect(article.status).toBe(201);
    const tech = await call<Page<Article>>(host.url, 'GET', '/api/news/articles?category=tech&limit=1');
    expect(tech.body.items.map((a) => a.id)).toEqual([article.body.id]);
    expect(tech.body.nextCursor).toBeDefined();

    const rows = await readOutbox(db);
    expect(rows.map((r) => r.aggregateId)).toEqual([...NEWS_DEMO.articleIds, article.body.id]);
    expect(rows.every((r) => r.name === 'article.published')).toBe(true);
    expect(openApiDrift(host, newsDomain)).toEqual({ undocumented: [], unserved: [] });
  });
});
