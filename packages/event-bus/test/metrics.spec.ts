import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '@portal/contracts';
import type { AnyDomainEvent } from '@portal/contracts';
import { migrate, openDatabase } from '@portal/db';
import type { Database } from '@portal/db';
import { MESSAGING_MIGRATION, OutboxRelay, appendToOutbox, handleOnce } from '@portal/event-bus';
import { InMemoryEventBus } from '@portal/event-bus/memory';
import { createLogger, metrics, parseExposition, sampleSum, withLogContext } from '@portal/observability';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const commented = (n: number, traceId = `req-${n}`) =>
  createEvent('comment.added', { commentId: uuid(n), postId: uuid(1), authorId: uuid(99) }, { aggregateId: uuid(1), traceId });

const scrape = async () => parseExposition((await metrics().exposition()).text);

let db: Database;
beforeAll(async () => {
  db = await openDatabase({});
  await migrate(db, [MESSAGING_MIGRATION, { id: '001_notes', sql: 'CREATE TABLE notes (id uuid PRIMARY KEY)' }]);
});
afterAll(async () => {
  await db?.close();
});

describe('event-bus metrics, through an outbox, the in-process bus and a once-only consumer', () => {
  it('counts published, handled, duplicate, failed and dead-lettered events, and logs each consumer line with the event and request ids', async () => {
    const lines: Record<string, unknown>[] = [];
    const log = createLogger('blog', { write: (line) => lines.push(JSON.parse(line) as Record<string, unknown>) });
    const bus = new InMemoryEventBus({ retries: 1, backoffMs: 1, logger: log });
    const received: AnyDomainEvent[] = [];
    bus.subscribe({
      group: 'notes',
      events: ['comment.added'],
      handle: async (event) => {
        received.push(event);
        log.info('noting comment');
        await handleOnce(db, 'notes', event, async (tx) => void (await tx.query('INSERT INTO notes (id) VALUES ($1)', [(event.payload as { commentId: string }).commentId])));
      },
    });
    bus.subscribe({
      group: 'grumpy',
      events: ['comment.added'],
      handle: async () => {
        throw new Error('refused');
      },
    });
    await bus.start();
    const relay = new OutboxRelay(db, bus, { intervalMs: 60_000 });
    const before = await scrape();

    // Caused by request req-1 (the trace id the event carries) and req-2.
    await withLogContext({ requestId: 'req-1' }, () => db.transaction((tx) => appendToOutbox(tx, [commented(1, 'req-1'), commented(2, 'req-2')])));
    expect(await relay.backlog()).toMatchObject({ events: 2 });
    await relay.flush();
    await bus.idle();
    // Redelivered (at least once): the inbox recognises it.
    await bus.publish([received[0] as AnyDomainEvent]);
    await bus.idle();

    const after = await scrape();
    const delta = (name: string, labels: Record<string, string>) => sampleSum(after, name, labels) - sampleSum(before, name, labels);
    expect(delta('portal_events_published_total', { event: 'comment.added' })).toBe(2);
    expect(delta('portal_events_consumed_total', { group: 'notes', event: 'comment.added', outcome: 'handled' })).toBe(2);
    expect(delta('portal_events_consumed_total', { group: 'notes', event: 'comment.added', outcome: 'duplicate' })).toBe(1);
    // Two attempts (one retry) for each of three deliveries.
    expect(delta('portal_events_failed_total', { group: 'grumpy', event: 'comment.added' })).toBe(6);
    expect(delta('portal_events_dead_lettered_total', { group: 'grumpy', reason: 'handler' })).toBe(3);
    expect(await relay.backlog()).toEqual({ events: 0, oldestAgeSeconds: 0 });

    const consumerLines = lines.filter((l) => l.msg === 'noting comment');
    expect(consumerLines.map((l) => [l.eventId, l.requestId])).toEqual([
      [received[0]?.id, 'req-1'],
      [received[1]?.id, 'req-2'],
      [received[0]?.id, 'req-1'],
    ]);
    const deadLettered = lines.filter((l) => l.msg === 'event dead-lettered');
    expect(deadLettered).toHaveLength(3);
    expect(deadLettered.every((l) => typeof l.eventId === 'string' && typeof l.requestId === 'string')).toBe(true);
  });

  it('measures the backlog and the age of its oldest event', async () => {
    const old = commented(10);
    await db.transaction((tx) => appendToOutbox(tx, [old, commented(11)]));
    await db.query("UPDATE outbox SET created_at = now() - interval '90 seconds' WHERE event_id = $1", [old.id]);
    const backlog = await new OutboxRelay(db, new InMemoryEventBus()).backlog();
    expect(backlog.events).toBe(2);
    expect(backlog.oldestAgeSeconds).toBeGreaterThanOrEqual(90);
    expect(backlog.oldestAgeSeconds).toBeLessThan(120);
  });
});
