import 'reflect-metadata';
import { Body, Controller, Get, Inject, Module, Post } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { z } from 'zod';
import { createEvent } from '@portal/contracts';
import { MESSAGING_MIGRATION, appendToOutbox } from '@portal/event-bus';
import type { DomainContext, DomainDefinition, Host } from '@portal/host';
import { readOutbox, startTestHost } from '@portal/host/testing';
import { createDatabase, startKafka, startPostgres, waitUntil } from '@portal/testing';
import type { KafkaServer, PostgresServer } from '@portal/testing';

// A small domain that reads with one statement and writes in a transaction of
// several with an event, as the real ones do.
const CONTEXT = Symbol('CONTEXT');
const NewNote = z.object({ text: z.string().min(1) });
const AUTHOR = '5a0c6e9e-1b2d-4c3e-8f4a-9b8c7d6e5f40';

@Controller('api/blog/notes')
class NotesController {
  constructor(@Inject(CONTEXT) private readonly context: DomainContext) {}

  @Post()
  async create(@Body({ schema: NewNote }) body: z.infer<typeof NewNote>) {
    const id = crypto.randomUUID();
    await this.context.database.transaction(async (tx) => {
      await tx.query('INSERT INTO notes (id, text) VALUES ($1, $2)', [id, body.text]);
      await tx.query('UPDATE notes SET text = text WHERE id = $1', [id]);
      await appendToOutbox(tx, [createEvent('post.created', { postId: id, authorId: AUTHOR, title: body.text }, { aggregateId: id, traceId: 't' })]);
    });
    this.context.outbox.nudge();
    return { id };
  }

  @Get('count')
  async count() {
    const { rows } = await this.context.database.query<{ n: number }>('SELECT count(*)::int AS n FROM notes');
    return { n: rows[0]?.n };
  }
}

const notes: DomainDefinition = {
  name: 'blog',
  migrations: [MESSAGING_MIGRATION, { id: '001_notes', sql: 'CREATE TABLE notes (id uuid PRIMARY KEY, text text NOT NULL)' }],
  api: { info: { title: 'notes', version: '1' }, routes: [] },
  module: (context): DynamicModule => {
    @Module({ controllers: [NotesController], providers: [{ provide: CONTEXT, useValue: context }] })
    class NotesModule {}
    return { module: NotesModule };
  },
};

interface Answer {
  readonly method: string;
  readonly status: number | 'no answer';
  readonly type?: string | null;
  readonly retryAfter?: string | null;
  readonly detail?: string;
  readonly id?: string;
}

async function send(url: string, method: 'GET' | 'POST'): Promise<Answer> {
  try {
    const res = await fetch(`${url}/api/blog/notes${method === 'GET' ? '/count' : ''}`, {
      method,
      headers: { 'content-type': 'application/json' },
      body: method === 'POST' ? JSON.stringify({ text: 'kept' }) : undefined,
      // Longer than any bound the service has (connect 5 s): no answer by then is a hang.
      signal: AbortSignal.timeout(15_000),
    });
    const body = (await res.json()) as { id?: string; detail?: string };
    return { method, status: res.status, type: res.headers.get('content-type'), retryAfter: res.headers.get('retry-after'), detail: body.detail, id: body.id };
  } catch {
    return { method, status: 'no answer' };
  }
}

describe('a service while its PostgreSQL restarts under load', () => {
  let server: PostgresServer;
  let host: Host;
  beforeAll(async () => {
    server = await startPostgres();
    host = await startTestHost([notes], { DATABASE_URL: await createDatabase(server, 'notes'), LOG_LEVEL: 'error' });
  }, 120_000);
  // The container goes even when the host fails to close (a failed test can leave the database stopped).
  afterAll(async () => {
    try {
      await host?.close();
    } finally {
      await server?.close();
    }
  }, 60_000);

  it('stays up, answers 503 with Retry-After while the database is away, and serves again after', { timeout: 180_000 }, async () => {
    const answers: Answer[] = [];
    let loading = true;
    // Eight clients, each sending its next request when the last is answered.
    const clients = Array.from({ length: 8 }, async (_, i) => {
      while (loading) answers.push(await send(host.url, i % 2 === 0 ? 'POST' : 'GET'));
    });
    try {
      await waitUntil('requests served before the restart', 10_000, async () => {
        if (answers.filter((a) => a.status === 201).length < 20) throw new Error('not yet');
      });
      await server.stopServer();
      const before = answers.length;
      await waitUntil('requests answered while the database is stopped', 20_000, async () => {
        if (answers.slice(before).filter((a) => a.status === 503).length < 20) throw new Error('not yet');
      });
      const ready = await fetch(`${host.url}/health/ready`);
      expect(ready.status).toBe(503);
      await server.startServer();
      const restarted = answers.length;
      await waitUntil('writes served after the restart', 30_000, async () => {
        if (answers.slice(restarted).filter((a) => a.status === 201).length < 20) throw new Error('not yet');
      });
    } finally {
      loading = false;
      await Promise.all(clients);
    }

    // Nothing failed as a bug, nothing hung: each answer is a success or a 503 problem saying why and when to retry.
    const statuses = new Set(answers.map((a) => a.status));
    expect([...statuses].sort()).toEqual([200, 201, 503]);
    for (const answer of answers.filter((a) => a.status === 503)) {
      expect(answer).toMatchObject({ type: expect.stringMatching(/^application\/problem\+json/), retryAfter: '2', detail: 'database unavailable; try again' });
    }
    // Once it answers again, every request succeeds.
    const after = await Promise.all(Array.from({ length: 20 }, (_, i) => send(host.url, i % 2 === 0 ? 'POST' : 'GET')));
    expect(after.map((a) => a.status)).toEqual(Array.from({ length: 20 }, (_, i) => (i % 2 === 0 ? 201 : 200)));
    expect((await fetch(`${host.url}/health/ready`)).status).toBe(200);
    // Every write answered 201 is there (a 503 may or may not have committed: the client retries it).
    const written = [...answers, ...after].filter((a) => a.status === 201).map((a) => a.id);
    const { rows } = await host.databases.get('blog')!.query<{ id: string }>('SELECT id FROM notes WHERE id = ANY($1::uuid[])', [written]);
    expect(rows).toHaveLength(written.length);
  });
});

describe('a service while Kafka is down', () => {
  let kafka: KafkaServer;
  let server: PostgresServer;
  let host: Host;
  beforeAll(async () => {
    [kafka, server] = await Promise.all([startKafka(), startPostgres()]);
    host = await startTestHost([notes], { DATABASE_URL: await createDatabase(server, 'notes'), KAFKA_BROKERS: kafka.brokers.join(','), LOG_LEVEL: 'error' });
  }, 300_000);
  afterAll(async () => {
    try {
      await host?.close();
    } finally {
      await Promise.all([kafka?.close(), server?.close()]);
    }
  }, 60_000);

  const readiness = async () => {
    const res = await fetch(`${host.url}/health/ready`);
    return { status: res.status, body: (await res.json()) as { status: string; optional?: { kafka?: string } } };
  };

  it('stays ready (degraded, saying why) and keeps taking writes, whose events go out once the broker is back', { timeout: 300_000 }, async () => {
    expect(await readiness()).toEqual({ status: 200, body: { status: 'ok', checks: { 'blog-database': 'ok' }, optional: { kafka: 'ok', consumers: 'ok' } } });
    await kafka.stopBroker();
    const statuses: number[] = [];
    try {
      const down = await waitUntil('readiness to notice the broker is gone', 30_000, async () => {
        const answer = await readiness();
        statuses.push(answer.status);
        if (answer.body.status !== 'degraded') throw new Error(JSON.stringify(answer.body));
        return answer.body;
      });
      expect(down.optional?.kafka).not.toBe('ok');
      const written = await send(host.url, 'POST');
      expect(written.status).toBe(201);
      statuses.push((await readiness()).status);
      expect(new Set(statuses)).toEqual(new Set([200]));
    } finally {
      await kafka.startBroker();
    }
    await waitUntil('readiness ok again', 60_000, async () => {
      const answer = await readiness();
      if (answer.body.status !== 'ok') throw new Error(JSON.stringify(answer.body));
    });
    await waitUntil('the event written meanwhile published', 120_000, async () => {
      const pending = (await readOutbox(host.databases.get('blog')!)).filter((row) => row.publishedAt === null);
      if (pending.length > 0) throw new Error(`${pending.length} events wait`);
    });
  });
});
