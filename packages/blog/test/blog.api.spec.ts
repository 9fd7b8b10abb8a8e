import 'reflect-metadata';
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page, Problem } from '@portal/contracts/api';
import type { Comment, Post } from '@portal/contracts/api/blog';
import type { Database } from '@portal/db';
import type { Host } from '@portal/host';
import { assertTooLarge, call, countRows, fakeAuth, fieldsOf, openApiDrift, overLimit, readOutbox, startTestHost, walk } from '@portal/host/testing';
import { encodeCursor } from '@portal/http';
import { createDatabase, startPostgres, waitUntil } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { BLOG_DEMO, blogDomain } from '../src/index.js';
import { seedDemoPost } from '../src/demo.seed.js';

const auth = await fakeAuth();

/** Newest first, as the list of posts orders them. */
const newestFirst = (a: Post, b: Post) => b.createdAt.localeCompare(a.createdAt) || (b.id > a.id ? 1 : b.id < a.id ? -1 : 0);

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.close();
});

describe('the blog API on PostgreSQL', () => {
  let host: Host;
  let db: Database;
  const author = randomUUID();
  const reader = randomUUID();
  let token: string;
  let readerToken: string;
  /** Every event this suite's writes should have appended, in order. */
  const expected: { name: string; aggregateId: string; payload: Record<string, unknown> }[] = [];
  const posts: Post[] = [];

  async function write(title: string, body = `${title}, in more words.`): Promise<Post> {
    const res = await call<Post>(host.url, 'POST', '/api/blog/posts', { token, body: { title, body } });
    expect(res.status).toBe(201);
    posts.push(res.body);
    expected.push({ name: 'post.created', aggregateId: res.body.id, payload: { postId: res.body.id, authorId: author, title: res.body.title } });
    return res.body;
  }

  async function comment(postId: string, body: string, as = readerToken, authorId = reader): Promise<Comment> {
    const res = await call<Comment>(host.url, 'POST', `/api/blog/posts/${postId}/comments`, { token: as, body: { body } });
    expect(res.status).toBe(201);
    expected.push({ name: 'comment.added', aggregateId: postId, payload: { commentId: res.body.id, postId, authorId } });
    return res.body;
  }

  beforeAll(async () => {
    host = await startTestHost([auth.domain, blogDomain], { BLOG_DATABASE_URL: await createDatabase(server, 'blog') });
    db = host.databases.get('blog')!;
    token = await auth.token(author);
    readerToken = await auth.token(reader);
  });
  afterAll(async () => {
    await host?.close();
  });

  it('runs on a real PostgreSQL and documents exactly the routes it serves', async () => {
    expect(db.kind).toBe('postgres');
    expect(openApiDrift(host, blogDomain)).toEqual({ undocumented: [], unserved: [] });
    const doc = await call<{ paths: Record<string, unknown> }>(host.url, 'GET', '/api/blog/openapi.json');
    expect(Object.keys(doc.body.paths).sort()).toEqual(['/api/blog/posts', '/api/blog/posts/{id}', '/api/blog/posts/{id}/comments']);
  });

  describe('posts', () => {
    it('writes a post for the signed-in user, reads it back, and appends post.created with the request id', async () => {
      const res = await call<Post>(host.url, 'POST', '/api/blog/posts', {
        token,
        body: { title: '  First light  ', body: 'Morning notes.' },
        headers: { 'x-request-id': 'blog-trace-1' },
      });
      expect(res.status).toBe(201);
      const post = res.body;
      posts.push(post);
      expected.push({ name: 'post.created', aggregateId: post.id, payload: { postId: post.id, authorId: author, title: 'First light' } });
      expect(post).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        title: 'First light',
        body: 'Morning notes.',
        authorId: author,
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
        commentCount: 0,
      });
      expect(await call(host.url, 'GET', `/api/blog/posts/${post.id}`)).toMatchObject({ status: 200, body: post });

      const rows = (await readOutbox(db)).filter((r) => r.aggregateId === post.id);
      expect(rows).toHaveLength(1);
      expect(rows[0]!.event).toMatchObject({
        name: 'post.created',
        version: 1,
        aggregateId: post.id,
        traceId: 'blog-trace-1',
        occurredAt: post.createdAt,
        payload: { postId: post.id, authorId: author, title: 'First light' },
      });
      await waitUntil('the event relayed', 5_000, async () => {
        const row = (await readOutbox(db)).find((r) => r.aggregateId === post.id);
        if (!row?.publishedAt) throw new Error('not relayed yet');
      });
    });

    it.each([
      ['nothing at all', {}, ['body.title', 'body.body']],
      ['a title of the wrong type', { title: 5, body: 'b' }, ['body.title']],
      ['a blank title', { title: ' ', body: 'b' }, ['body.title']],
      ['a title over 200 characters', { title: 't'.repeat(201), body: 'b' }, ['body.title']],
      ['an empty body', { title: 't', body: '' }, ['body.body']],
      ['a blank body', { title: 't', body: '\n\t ' }, ['body.body']],
      ['a body over 50000 characters', { title: 't', body: 'b'.repeat(50_001) }, ['body.body']],
      ['a body of the wrong type', { title: 't', body: { text: 'b' } }, ['body.body']],
      ['a NUL byte in the body', { title: 't', body: 'before\u0000after' }, ['body.body']],
      ['a control character in the title', { title: 'ring\u0007', body: 'b' }, ['body.title']],
    ])('refuses a post with %s, naming the fields', async (_, body, fields) => {
      const res = await call<Problem>(host.url, 'POST', '/api/blog/posts', { token, body });
      expect(res.status).toBe(400);
      expect(res.type).toMatch(/^application\/problem\+json/);
      expect(fieldsOf(res)).toEqual(fields);
    });

    it('accepts the longest title and body', async () => {
      const post = await write('t'.repeat(200), 'b'.repeat(50_000));
      expect(post.title).toHaveLength(200);
      expect(post.body).toHaveLength(50_000);
    });

    it('answers 413 with a problem to a post over the body limit, and writes nothing', async () => {
      const before = await countRows(db, ['posts', 'outbox']);
      assertTooLarge(await call(host.url, 'POST', '/api/blog/posts', { token, body: { title: 'Oversized', body: overLimit() } }));
      expect(await countRows(db, ['posts', 'outbox'])).toEqual(before);
    });

    it('needs a valid bearer token to write', async () => {
      const body = { title: 'Anonymous', body: 'Who wrote this?' };
      const none = await call<Problem>(host.url, 'POST', '/api/blog/posts', { body });
      expect(none.status).toBe(401);
      expect(none.body.detail).toMatch(/header\.authorization/);
      expect((await call(host.url, 'POST', '/api/blog/posts', { body, token: 'not.a.token' })).status).toBe(401);
      const other = await fakeAuth();
      expect((await call(host.url, 'POST', '/api/blog/posts', { body, token: await other.token() })).status).toBe(401);
      expect((await db.query("SELECT 1 FROM posts WHERE title = 'Anonymous'")).rows).toHaveLength(0);
    });

    it('answers 404 for an unknown post and 400 param.id for a malformed id', async () => {
      const id = randomUUID();
      const missing = await call<Problem>(host.url, 'GET', `/api/blog/posts/${id}`);
      expect(missing.status).toBe(404);
      expect(missing.body.detail).toBe(`post ${id} does not exist`);
      expect(fieldsOf(await call(host.url, 'GET', '/api/blog/posts/123'))).toEqual(['param.id']);
    });

    it('lists newest first and pages through more posts than one page, without repeats or gaps', async () => {
      for (let i = 0; i < 22; i += 1) await write(`Post ${i}`);
      const { items, pages } = await walk<Post>(host, '/api/blog/posts', 5);
      expect(items).toHaveLength(24);
      expect(new Set(items.map((p) => p.id)).size).toBe(24);
      expect(items).toEqual([...posts].sort(newestFirst));
      expect(items[0]!.title).toBe('Post 21');
      expect(pages).toBe(5);
    });

    it('refuses a garbage cursor and a bad limit, naming the field', async () => {
      for (const cursor of ['garbage', encodeCursor(['2025-01-01', randomUUID()]), encodeCursor(['2025-01-01T00:00:00.000Z', 'x']), encodeCursor(['a'])]) {
        const res = await call(host.url, 'GET', `/api/blog/posts?cursor=${encodeURIComponent(cursor)}`);
        expect(res.status).toBe(400);
        expect(fieldsOf(res)).toEqual(['query.cursor']);
      }
      expect(fieldsOf(await call(host.url, 'GET', '/api/blog/posts?limit=0'))).toEqual(['query.limit']);
      expect(fieldsOf(await call(host.url, 'GET', '/api/blog/posts?limit=101'))).toEqual(['query.limit']);
    });
  });

  describe('comments', () => {
    it('adds a comment by the signed-in user, counts it on the post, and appends comment.added keyed by the post', async () => {
      const post = await write('Discuss');
      const res = await call<Comment>(host.url, 'POST', `/api/blog/posts/${post.id}/comments`, {
        token: readerToken,
        body: { body: 'Nice one.' },
        headers: { 'x-request-id': 'blog-trace-2' },
      });
      expect(res.status).toBe(201);
      expected.push({ name: 'comment.added', aggregateId: post.id, payload: { commentId: res.body.id, postId: post.id, authorId: reader } });
      expect(res.body).toEqual({
        id: expect.stringMatching(/^[0-9a-f-]{36}$/),
        postId: post.id,
        authorId: reader,
        body: 'Nice one.',
        createdAt: expect.stringMatching(/^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$/),
      });
      expect((await call<Post>(host.url, 'GET', `/api/blog/posts/${post.id}`)).body.commentCount).toBe(1);
      const list = await call<Page<Comment>>(host.url, 'GET', `/api/blog/posts/${post.id}/comments`);
      expect(list).toMatchObject({ status: 200, body: { items: [res.body] } });
      expect(list.body.nextCursor).toBeUndefined();

      const rows = (await readOutbox(db)).filter((r) => r.name === 'comment.added' && r.aggregateId === post.id);
      expect(rows.map((r) => r.event)).toEqual([
        expect.objectContaining({
          name: 'comment.added',
          aggregateId: post.id,
          traceId: 'blog-trace-2',
          occurredAt: res.body.createdAt,
          payload: { commentId: res.body.id, postId: post.id, authorId: reader },
        }),
      ]);
    });

    it('answers 404 for comments on an unknown post, and 400 param.id for a malformed id', async () => {
      const id = randomUUID();
      const write404 = await call<Problem>(host.url, 'POST', `/api/blog/posts/${id}/comments`, { token, body: { body: 'Hello?' } });
      expect(write404.status).toBe(404);
      expect(write404.body.detail).toBe(`post ${id} does not exist`);
      expect((await call(host.url, 'GET', `/api/blog/posts/${id}/comments`)).status).toBe(404);
      expect(fieldsOf(await call(host.url, 'POST', '/api/blog/posts/nope/comments', { token, body: { body: 'x' } }))).toEqual(['param.id']);
      expect(fieldsOf(await call(host.url, 'GET', '/api/blog/posts/nope/comments'))).toEqual(['param.id']);
      expect((await db.query('SELECT 1 FROM comments WHERE post_id = $1', [id])).rows).toHaveLength(0);
    });

    it.each([
      ['nothing at all', {}, ['body.body']],
      ['a body of the wrong type', { body: 5 }, ['body.body']],
      ['an empty body', { body: '' }, ['body.body']],
      ['a blank body', { body: '   ' }, ['body.body']],
      ['a body over 5000 characters', { body: 'c'.repeat(5_001) }, ['body.body']],
      ['a NUL byte in the body', { body: 'c\u0000' }, ['body.body']],
    ])('refuses a comment with %s, naming the fields', async (_, body, fields) => {
      const post = posts[0]!;
      const res = await call<Problem>(host.url, 'POST', `/api/blog/posts/${post.id}/comments`, { token, body });
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(fields);
    });

    it('needs a valid bearer token to comment', async () => {
      const post = posts[0]!;
      const res = await call<Problem>(host.url, 'POST', `/api/blog/posts/${post.id}/comments`, { body: { body: 'Anonymous' } });
      expect(res.status).toBe(401);
      expect((await call<Post>(host.url, 'GET', `/api/blog/posts/${post.id}`)).body.commentCount).toBe(0);
    });

    it('lists comments oldest first and pages through more than one page, without repeats or gaps', async () => {
      const post = await write('Busy thread');
      const added: Comment[] = [];
      for (let i = 0; i < 17; i += 1) added.push(await comment(post.id, `Comment ${i}`, i % 2 === 0 ? readerToken : token, i % 2 === 0 ? reader : author));
      const { items, pages } = await walk<Comment>(host, `/api/blog/posts/${post.id}/comments`, 4);
      expect(items).toEqual(added);
      expect(pages).toBe(5);
      expect((await call<Post>(host.url, 'GET', `/api/blog/posts/${post.id}`)).body.commentCount).toBe(17);
      // Times strictly increase, so the list's order is the order they were added.
      const times = items.map((c) => c.createdAt);
      expect(times.every((t, i) => i === 0 || t > times[i - 1]!)).toBe(true);
      // And the comments of another post stay out of it.
      const other = await call<Page<Comment>>(host.url, 'GET', `/api/blog/posts/${posts[0]!.id}/comments`);
      expect(other.body).toEqual({ items: [] });
    });

    it('keeps the comments of a post in order under concurrent writes', async () => {
      const post = await write('Rush');
      const replies = await Promise.all(
        Array.from({ length: 12 }, (_, i) => call<Comment>(host.url, 'POST', `/api/blog/posts/${post.id}/comments`, { token: readerToken, body: { body: `Rush ${i}` } })),
      );
      expect(replies.every((r) => r.status === 201)).toBe(true);
      const listed = (await call<Page<Comment>>(host.url, 'GET', `/api/blog/posts/${post.id}/comments?limit=100`)).body.items;
      const events = (await readOutbox(db)).filter((r) => r.name === 'comment.added' && r.aggregateId === post.id);
      // The list and the events agree on the order, whatever order the requests ran in.
      expect(events.map((r) => (r.event.payload as { commentId: string }).commentId)).toEqual(listed.map((c) => c.id));
      for (const c of listed) expected.push({ name: 'comment.added', aggregateId: post.id, payload: { commentId: c.id, postId: post.id, authorId: reader } });
    });

    it('refuses a garbage comment cursor, naming query.cursor', async () => {
      const res = await call(host.url, 'GET', `/api/blog/posts/${posts[0]!.id}/comments?cursor=garbage`);
      expect(res.status).toBe(400);
      expect(fieldsOf(res)).toEqual(['query.cursor']);
    });
  });

  it('holds exactly the events of the writes that succeeded, in order', async () => {
    const rows = await readOutbox(db);
    expect(rows.map((r) => ({ name: r.name, aggregateId: r.aggregateId, payload: r.event.payload }))).toEqual(expected);
    await host.flushOutboxes();
    expect((await readOutbox(db)).every((r) => r.publishedAt !== null)).toBe(true);
  });
});

describe('the blog API on an embedded database, with demo data', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startTestHost([auth.domain, blogDomain], { SEED_DEMO_DATA: 'true' });
  });
  afterAll(async () => {
    await host?.close();
  });

  it('seeds one post with one comment, once, with their events, and takes more', async () => {
    const db = host.databases.get('blog')!;
    expect(db.kind).toBe('embedded');
    const list = await call<Page<Post>>(host.url, 'GET', '/api/blog/posts');
    expect(list.body.items).toEqual([expect.objectContaining({ id: BLOG_DEMO.postId, authorId: BLOG_DEMO.authorId, commentCount: 1 })]);
    const comments = await call<Page<Comment>>(host.url, 'GET', `/api/blog/posts/${BLOG_DEMO.postId}/comments`);
    expect(comments.body.items).toEqual([expect.objectContaining({ id: BLOG_DEMO.commentId, postId: BLOG_DEMO.postId })]);
    expect(await seedDemoPost(db)).toBe(false);

    const userToken = await auth.token();
    const reply = await call<Comment>(host.url, 'POST', `/api/blog/posts/${BLOG_DEMO.postId}/comments`, { token: userToken, body: { body: 'Me too.' } });
    expect(reply.status).toBe(201);
    const after = await call<Page<Comment>>(host.url, 'GET', `/api/blog/posts/${BLOG_DEMO.postId}/comments?limit=1`);
    expect(after.body.items.map((c) => c.id)).toEqual([BLOG_DEMO.commentId]);
    const next = await call<Page<Comment>>(host.url, 'GET', `/api/blog/posts/${BLOG_DEMO.postId}/comments?limit=1&cursor=${after.body.nextCursor}`);
    expect(next.body).toEqual({ items: [reply.body] });

    const rows = await readOutbox(db);
    expect(rows.map((r) => [r.name, r.aggregateId])).toEqual([
      ['post.created', BLOG_DEMO.postId],
      ['comment.added', BLOG_DEMO.postId],
      ['comment.added', BLOG_DEMO.postId],
    ]);
    expect(openApiDrift(host, blogDomain)).toEqual({ undocumented: [], unserved: [] });
  });
});
