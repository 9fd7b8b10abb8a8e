import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AnyDomainEvent, EventBus } from '@portal/contracts';
import { createEvent } from '@portal/contracts';
import { migrate, openDatabase } from '@portal/db';
import type { Database } from '@portal/db';
import { MESSAGING_MIGRATION, OutboxRelay, appendToOutbox, handleOnce } from '@portal/event-bus';
import { startPostgres } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const commented = (n: number, post = 1) =>
  createEvent('comment.added', { commentId: uuid(n), postId: uuid(post), authorId: uuid(99) }, { aggregateId: uuid(post), traceId: 't' });

/** A bus that records what it was given and can be told to refuse. */
function recordingBus() {
  const published: AnyDomainEvent[] = [];
  let down = false;
  const bus: EventBus & { published: AnyDomainEvent[]; setDown(value: boolean): void } = {
    published,
    setDown: (value) => void (down = value),
    publish: async (events) => {
      if (down) throw new Error('broker unreachable');
      published.push(...events);
    },
    subscribe: () => undefined,
    start: async () => undefined,
    stop: async () => undefined,
  };
  return bus;
}

let server: PostgresServer;
beforeAll(async () => {
  server = await startPostgres();
});
afterAll(async () => {
  await server?.close();
});

describe.each(['embedded', 'postgres'] as const)('outbox and inbox on the %s database', (kind) => {
  let db: Database;

  beforeAll(async () => {
    db = await openDatabase(kind === 'postgres' ? { url: server.url } : {});
    await db.exec('DROP TABLE IF EXISTS outbox, inbox, schema_migrations, notes');
    await migrate(db, [MESSAGING_MIGRATION, { id: '001_notes', sql: 'CREATE TABLE notes (id uuid PRIMARY KEY, n int NOT NULL DEFAULT 0)' }]);
  });
  afterAll(async () => {
    await db?.close();
  });

  it('keeps events only when their change commits', async () => {
    await db.transaction((tx) => appendToOutbox(tx, [commented(1)]));
    await expect(
      db.transaction(async (tx) => {
        await appendToOutbox(tx, [commented(2)]);
        throw new Error('rolled back');
      }),
    ).rejects.toThrow('rolled back');
    const { rows } = await db.query<{ name: string; event: AnyDomainEvent }>('SELECT name, event FROM outbox ORDER BY seq');
    expect(rows.map((r) => r.event.payload)).toEqual([commented(1).payload]);
  });

  it('publishes committed events after a crash before publish, in order, once', async () => {
    // What a crashed process left: committed events nobody published.
    await db.transaction((tx) => appendToOutbox(tx, [commented(3), commented(4), commented(5)]));
    const bus = recordingBus();
    const relay = new OutboxRelay(db, bus, { batchSize: 2 }); // as after the restart
    await relay.flush();
    await relay.flush();
    expect(bus.published.map((e) => e.payload)).toEqual([1, 3, 4, 5].map((n) => commented(n).payload));
    expect(await relay.pending()).toBe(0);
  });

  it('keeps events pending while the bus is down and sends them when it is back', async () => {
    const bus = recordingBus();
    const relay = new OutboxRelay(db, bus);
    await db.transaction((tx) => appendToOutbox(tx, [commented(6)]));
    bus.setDown(true);
    await expect(relay.flush()).rejects.toThrow('broker unreachable');
    expect(await relay.pending()).toBe(1);
    bus.setDown(false);
    await relay.flush();
    expect(bus.published.map((e) => (e.payload as { commentId: string }).commentId)).toEqual([uuid(6)]);
  });

  it('applies a redelivered event once, even when both deliveries race', async () => {
    await db.query('INSERT INTO notes (id) VALUES ($1)', [uuid(1)]);
    const event = commented(7);
    const bump = (tx: { query: Database['query'] }) => tx.query('UPDATE notes SET n = n + 1 WHERE id = $1', [uuid(1)]).then(() => undefined);
    const results = await Promise.all([handleOnce(db, 'analytics', event, bump), handleOnce(db, 'analytics', event, bump)]);
    expect(results.sort()).toEqual([false, true]);
    expect(await handleOnce(db, 'analytics', event, bump)).toBe(false);
    expect(await handleOnce(db, 'webtoon', event, bump)).toBe(true); // another group applies it once too
    const { rows } = await db.query<{ n: number }>('SELECT n FROM notes WHERE id = $1', [uuid(1)]);
    expect(rows[0]?.n).toBe(2);
  });
});
