// The whole path the services use (outbox -> relay -> Kafka -> consumer group ->
// once-only effect), with the broker restarted in the middle of the stream.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createEvent } from '@portal/contracts';
import type { AnyDomainEvent } from '@portal/contracts';
import { migrate, openDatabase } from '@portal/db';
import type { Database } from '@portal/db';
import { MESSAGING_MIGRATION, OutboxRelay, appendToOutbox, handleOnce } from '@portal/event-bus';
import { KafkaEventBus } from '@portal/event-bus/kafka';
import { createLogger } from '@portal/observability';
import { createDatabase, readTestingEnv, startKafka, startPostgres, waitUntil } from '@portal/testing';
import type { KafkaServer, PostgresServer } from '@portal/testing';

const TOTAL = 1_000;
const PER_COMMIT = 10;
const GROUP = 'fault-counter';
const logger = createLogger('test', { level: 'error' });
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const viewed = (n: number): AnyDomainEvent =>
  createEvent(
    'episode.viewed',
    { episodeId: uuid(n % 7), seriesId: uuid(100), views: 1, windowStart: new Date(0).toISOString(), windowEnd: new Date(1_000).toISOString() },
    { aggregateId: uuid(n % 7), traceId: `restart-${n}` },
  );

let kafka: KafkaServer;
let postgres: PostgresServer;
let producerDb: Database;
let consumerDb: Database;
const stops: (() => Promise<unknown>)[] = [];

beforeAll(async () => {
  [kafka, postgres] = await Promise.all([startKafka(), startPostgres()]);
  producerDb = await openDatabase({ url: await createDatabase(postgres, 'producer') });
  consumerDb = await openDatabase({ url: await createDatabase(postgres, 'consumer') });
  await migrate(producerDb, [MESSAGING_MIGRATION]);
  // No uniqueness here on purpose: a second application of an event would show as a second row.
  await migrate(consumerDb, [MESSAGING_MIGRATION, { id: '001_applied', sql: 'CREATE TABLE applied (event_id uuid NOT NULL)' }]);
});

afterAll(async () => {
  for (const stop of stops.reverse()) await stop().catch(() => undefined);
  await producerDb?.close();
  await consumerDb?.close();
  await Promise.all([kafka?.close(), postgres?.close()]);
});

describe('a broker restart in the middle of a stream', () => {
  const env = readTestingEnv();
  it.skipIf(env.kafkaBrokers !== undefined && !env.ci)(`applies each of ${TOTAL} events exactly once`, async () => {
    const consumer = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'consumer', logger, backoffMs: 50 });
    consumer.subscribe({
      group: GROUP,
      events: ['episode.viewed'],
      handle: async (event) => {
        await handleOnce(consumerDb, GROUP, event, async (tx) => void (await tx.query('INSERT INTO applied (event_id) VALUES ($1)', [event.id])));
      },
    });
    const producer = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'producer', logger });
    await Promise.all([consumer.start(), producer.start()]);
    stops.push(() => consumer.stop(), () => producer.stop());
    const relay = new OutboxRelay(producerDb, producer, { intervalMs: 200, logger });
    relay.start();
    stops.push(() => relay.stop());

    const events = Array.from({ length: TOTAL }, (_, n) => viewed(n));
    let restarted: Promise<void> | undefined;
    for (let i = 0; i < TOTAL; i += PER_COMMIT) {
      // Each commit is a change and its events together, as a domain writes them.
      await producerDb.transaction((tx) => appendToOutbox(tx, events.slice(i, i + PER_COMMIT)));
      relay.nudge();
      // A third of the way in, the broker goes down while commits keep coming.
      if (i === 300) restarted = kafka.stopBroker().then(() => new Promise((r) => setTimeout(r, 2_000))).then(() => kafka.startBroker());
      if (i % 100 === 0) await new Promise((r) => setTimeout(r, 50));
    }
    await restarted;

    const applied = async () =>
      (await consumerDb.query<{ rows: number; distinct: number }>('SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct FROM applied'))
        .rows[0];
    await waitUntil(`all ${TOTAL} events applied`, 120_000, async () => {
      const now = await applied();
      if ((now?.distinct ?? 0) < TOTAL) throw new Error(`${now?.distinct}/${TOTAL} applied, ${await relay.pending()} still in the outbox`);
    });
    // Redeliveries after the restart are possible (at-least-once); effects are not repeated.
    await new Promise((r) => setTimeout(r, 2_000));
    expect(await applied()).toEqual({ rows: TOTAL, distinct: TOTAL });
    const { rows } = await consumerDb.query<{ id: string }>('SELECT event_id AS id FROM applied');
    expect(new Set(rows.map((r) => r.id))).toEqual(new Set(events.map((e) => e.id)));
    expect(await relay.pending()).toBe(0);
  }, 240_000);
});
