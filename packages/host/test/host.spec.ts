import 'reflect-metadata';
import { Body, Controller, Get, Inject, Injectable, Module, Post } from '@nestjs/common';
import type { DynamicModule, OnModuleInit } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEvent } from '@portal/contracts';
import { MESSAGING_MIGRATION, appendToOutbox, handleOnce } from '@portal/event-bus';
import { startHost } from '@portal/host';
import type { DomainContext, DomainDefinition, Host } from '@portal/host';
import { openApiDrift, startTestHost } from '@portal/host/testing';
import { parseExposition, sampleSum } from '@portal/observability';
import { createDatabase, promtoolCheckMetrics, startPostgres, waitUntil } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';

// Two small domains standing in for real ones: blog publishes post.created,
// analytics counts it. They share nothing but the bus.
const CONTEXT = Symbol('CONTEXT');
const NewPost = z.object({ title: z.string().min(1) });
const AUTHOR = '5a0c6e9e-1b2d-4c3e-8f4a-9b8c7d6e5f40';

@Controller('api/blog/posts')
class PostsController {
  constructor(@Inject(CONTEXT) private readonly context: DomainContext) {}

  @Post()
  async create(@Body({ schema: NewPost }) body: z.infer<typeof NewPost>) {
    const id = crypto.randomUUID();
    await this.context.database.transaction(async (tx) => {
      await tx.query('INSERT INTO posts (id, title) VALUES ($1, $2)', [id, body.title]);
      await appendToOutbox(tx, [createEvent('post.created', { postId: id, authorId: AUTHOR, title: body.title }, { aggregateId: id, traceId: 't' })]);
    });
    this.context.outbox.nudge();
    return { id };
  }
}

const blog: DomainDefinition = {
  name: 'blog',
  migrations: [MESSAGING_MIGRATION, { id: '001_posts', sql: 'CREATE TABLE posts (id uuid PRIMARY KEY, title text NOT NULL)' }],
  api: {
    info: { title: 'blog', version: '1' },
    routes: [{ method: 'post', path: '/api/blog/posts', summary: 'write a post', body: NewPost, responses: { 201: { description: 'written' } } }],
  },
  module: (context): DynamicModule => {
    @Module({ controllers: [PostsController], providers: [{ provide: CONTEXT, useValue: context }] })
    class BlogModule {}
    return { module: BlogModule };
  },
};

@Injectable()
class Counter implements OnModuleInit {
  constructor(@Inject(CONTEXT) private readonly context: DomainContext) {}

  onModuleInit() {
    this.context.bus.subscribe({
      group: 'analytics',
      events: ['post.created'],
      handle: (event) =>
        handleOnce(this.context.database, 'analytics', event, async (tx) => {
          await tx.query("INSERT INTO counts (name, n) VALUES ('posts', 1) ON CONFLICT (name) DO UPDATE SET n = counts.n + 1");
        }).then(() => undefined),
    });
  }
}

@Controller('api/analytics')
class CountsController {
  constructor(@Inject(CONTEXT) private readonly context: DomainContext) {}

  @Get('counts')
  async counts() {
    const { rows } = await this.context.database.query<{ name: string; n: number }>('SELECT name, n FROM counts');
    return Object.fromEntries(rows.map((r) => [r.name, r.n]));
  }
}

const analytics: DomainDefinition = {
  name: 'analytics',
  migrations: [MESSAGING_MIGRATION, { id: '001_counts', sql: 'CREATE TABLE counts (name text PRIMARY KEY, n int NOT NULL)' }],
  api: { info: { title: 'analytics', version: '1' }, routes: [{ method: 'get', path: '/api/analytics/counts', summary: 'counts', responses: { 200: { description: 'counts' } } }] },
  module: (context): DynamicModule => {
    @Module({ controllers: [CountsController], providers: [{ provide: CONTEXT, useValue: context }, Counter] })
    class AnalyticsModule {}
    return { module: AnalyticsModule };
  },
};

describe('a monolith host on embedded databases', () => {
  let host: Host;
  beforeAll(async () => {
    host = await startTestHost([blog, analytics]);
  });
  afterAll(async () => {
    await host?.close();
  });

  it('gives each module its own database', async () => {
    const tables = async (name: 'blog' | 'analytics') =>
      (await host.databases.get(name)!.query<{ t: string }>("SELECT tablename AS t FROM pg_tables WHERE schemaname = 'public' ORDER BY 1")).rows.map((r) => r.t);
    expect(await tables('blog')).toEqual(['inbox', 'outbox', 'posts', 'schema_migrations']);
    expect(await tables('analytics')).toEqual(['counts', 'inbox', 'outbox', 'schema_migrations']);
  });

  it('carries an effect from one module to another through the outbox and the bus only', async () => {
    const res = await fetch(`${host.url}/api/blog/posts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'hello' }) });
    expect(res.status).toBe(201);
    const counts = await waitUntil('the post counted', 5_000, async () => {
      const body = (await (await fetch(`${host.url}/api/analytics/counts`)).json()) as Record<string, number>;
      if (body.posts !== 1) throw new Error(JSON.stringify(body));
      return body;
    });
    expect(counts).toEqual({ posts: 1 });
  });

  it('serves every OpenAPI document and keeps them in step with the routes', async () => {
    for (const domain of [blog, analytics]) {
      const doc = (await (await fetch(`${host.url}/api/${domain.name}/openapi.json`)).json()) as { openapi: string };
      expect(doc.openapi).toBe('3.0.3');
      expect(openApiDrift(host, domain)).toEqual({ undocumented: [], unserved: [] });
    }
  });

  it('serves /metrics: requests by route template, events through the outbox and the bus, outbox backlog per module; promtool finds no problem', { timeout: 90_000 }, async () => {
    for (const title of ['one', 'two']) {
      await fetch(`${host.url}/api/blog/posts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title }) });
    }
    await waitUntil('both posts counted', 5_000, async () => {
      const body = (await (await fetch(`${host.url}/api/analytics/counts`)).json()) as Record<string, number>;
      if (body.posts !== 3) throw new Error(JSON.stringify(body));
    });
    await fetch(`${host.url}/api/blog/posts/${crypto.randomUUID()}`);
    const res = await fetch(`${host.url}/metrics`);
    expect(res.status).toBe(200);
    const text = await res.text();
    const samples = parseExposition(text);
    expect(samples.every((s) => s.labels.service === 'monolith')).toBe(true);
    expect(sampleSum(samples, 'portal_http_requests_total', { method: 'POST', route: '/api/blog/posts', status: '201' })).toBe(3);
    expect(sampleSum(samples, 'portal_http_requests_total', { method: 'GET', route: 'unmatched', status: '404' })).toBe(1);
    expect(sampleSum(samples, 'portal_events_published_total', { event: 'post.created' })).toBe(3);
    expect(sampleSum(samples, 'portal_events_consumed_total', { group: 'analytics', event: 'post.created', outcome: 'handled' })).toBe(3);
    for (const module of ['blog', 'analytics']) {
      expect(samples.find((s) => s.name === 'portal_outbox_backlog' && s.labels.module === module)?.value).toBe(0);
      expect(samples.find((s) => s.name === 'portal_outbox_oldest_age_seconds' && s.labels.module === module)?.value).toBe(0);
    }
    expect(await promtoolCheckMetrics(text)).toEqual([]);
  });

  it('reports readiness per database', async () => {
    const ready = (await (await fetch(`${host.url}/health/ready`)).json()) as unknown;
    expect(ready).toEqual({ status: 'ok', checks: { 'blog-database': 'ok', 'analytics-database': 'ok' } });
  });
});

describe('host configuration', () => {
  it('refuses one DATABASE_URL for several modules, naming the variables to use', async () => {
    await expect(startTestHost([blog, analytics], { DATABASE_URL: 'postgres://u:p@localhost/x' })).rejects.toThrow(
      /DATABASE_URL: .* set BLOG_DATABASE_URL, ANALYTICS_DATABASE_URL instead/,
    );
  });

  it('names a bad variable', async () => {
    await expect(startHost({ service: 'blog', domains: [blog], defaultPort: 0, env: { PORT: 'x' } })).rejects.toThrow(/PORT: .*got 'x'/);
  });
});

describe('a service host on a real PostgreSQL', () => {
  let server: PostgresServer;
  beforeAll(async () => {
    server = await startPostgres();
  });
  afterAll(async () => {
    await server?.close();
  });

  it('migrates its own database and keeps data across a restart', async () => {
    const url = await createDatabase(server, 'blog');
    const first = await startTestHost([blog], { DATABASE_URL: url });
    await fetch(`${first.url}/api/blog/posts`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ title: 'kept' }) });
    await first.close();

    const second = await startTestHost([blog], { DATABASE_URL: url });
    try {
      const { rows } = await second.databases.get('blog')!.query<{ title: string }>('SELECT title FROM posts');
      expect(rows).toEqual([{ title: 'kept' }]);
      expect(second.databases.get('blog')!.kind).toBe('postgres');
      const text = await (await fetch(`${second.url}/metrics`)).text();
      expect(parseExposition(text).find((s) => s.name === 'portal_outbox_backlog')?.labels).toEqual({ service: 'blog', module: 'blog' });
      expect(await promtoolCheckMetrics(text)).toEqual([]);
    } finally {
      await second.close();
    }
  });
});
