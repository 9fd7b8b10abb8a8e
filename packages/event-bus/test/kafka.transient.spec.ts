// A consumer whose database goes away: the events it gets meanwhile wait for
// it, and none is dead-lettered for a failure that waiting fixes.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent, deadLetterTopic } from '@portal/contracts';
import type { AnyDomainEvent } from '@portal/contracts';
import { migrate, openDatabase } from '@portal/db';
import type { Database } from '@portal/db';
import { MESSAGING_MIGRATION, handleOnce } from '@portal/event-bus';
import { KafkaEventBus } from '@portal/event-bus/kafka';
import { createLogger } from '@portal/observability';
import { createDatabase, startKafka, startPostgres, waitUntil } from '@portal/testing';
import type { KafkaServer, PostgresServer } from '@portal/testing';

const GROUP = 'transient-counter';
const logger = createLogger('test', { level: 'error' });
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const viewed = (n: number): AnyDomainEvent =>
  createEvent(
    'episode.viewed',
    { episodeId: uuid(n % 5), seriesId: uuid(100), views: 1, windowStart: new Date(0).toISOString(), windowEnd: new Date(1_000).toISOString() },
    { aggregateId: uuid(n % 5), traceId: `transient-${n}` },
  );

let kafka: KafkaServer;
let postgres: PostgresServer;
let db: Database;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [kafka, postgres] = await Promise.all([startKafka(), startPostgres()]);
  db = await openDatabase({ url: await createDatabase(postgres, 'consumer'), onConnectionLost: () => undefined });
  // No uniqueness on purpose: a second application of an event would show as a second row.
  await migrate(db, [MESSAGING_MIGRATION, { id: '001_applied', sql: 'CREATE TABLE applied (event_id uuid NOT NULL)' }]);
}, 300_000);

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await db?.close();
  await Promise.all([kafka?.close(), postgres?.close()]);
});

describe('a consumer while its database is down', () => {
  it('holds the events, dead-letters none, and applies each exactly once when the database is back', { timeout: 300_000 }, async () => {
    const consumer = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'consumer', logger });
    consumer.subscribe({
      group: GROUP,
      events: ['episode.viewed'],
      handle: async (event) => {
        await handleOnce(db, GROUP, event, async (tx) => void (await tx.query('INSERT INTO applied (event_id) VALUES ($1)', [event.id])));
      },
    });
    const producer = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'producer', logger });
    await Promise.all([consumer.start(), producer.start()]);
    stops.push(() => consumer.stop(), () => producer.stop());
    const applied = async () => (await db.query<{ n: number; distinct: number }>('SELECT count(*)::int AS n, count(DISTINCT event_id)::int AS distinct FROM applied')).rows[0];

    const before = Array.from({ length: 5 }, (_, i) => viewed(i));
    await producer.publish(before);
    await waitUntil('the first events applied', 60_000, async () => {
      if ((await applied())?.n !== before.length) throw new Error('not yet');
    });

    await postgres.stopServer();
    const during = Array.from({ length: 20 }, (_, i) => viewed(100 + i));
    try {
      await producer.publish(during);
      // Far past the old retry window (three retries, about 0.7 s): held, said why, not given up.
      await waitUntil('partitions held for 5 s', 30_000, async () => {
        const stalls = consumer.stalls();
        if (stalls.length === 0 || Date.now() - Math.min(...stalls.map((s) => s.since.getTime())) < 5_000) throw new Error('not yet');
      });
      expect(consumer.stalls().every((s) => s.group === GROUP && s.topic === 'portal.webtoon.events')).toBe(true);
    } finally {
      await postgres.startServer();
    }

    const total = before.length + during.length;
    await waitUntil('every event applied', 60_000, async () => {
      if ((await applied())?.n !== total) throw new Error(JSON.stringify(await applied()));
    });
    expect(await applied()).toEqual({ n: total, distinct: total });
    await waitUntil('no partition held', 10_000, async () => {
      if (consumer.stalls().length > 0) throw new Error(JSON.stringify(consumer.stalls()));
    });

    const admin = new Kafka({ clientId: 'check', brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      const deadLetters = await admin.fetchTopicOffsets(deadLetterTopic(GROUP));
      expect(deadLetters.reduce((sum, p) => sum + Number(p.high), 0)).toBe(0);
    } finally {
      await admin.disconnect();
    }
  });
});
