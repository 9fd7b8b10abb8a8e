// The whole path the services use (outbox -> relay -> Kafka -> consumer group ->
// once-only effect), with the broker restarted in the middle of the stream.
import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EVENTS, createEvent } from '@portal/contracts';
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
/** The stream's pace: one commit of PER_COMMIT events per PACE_MS. */
const PACE_MS = 100;
/** Committed before the broker goes down: a third of the stream, and more until the first effects show. */
const BEFORE_STOP = 300;
/** Committed while the broker is down. */
const WHILE_DOWN = 200;
const GROUP = 'fault-counter';
const TOPIC = EVENTS['episode.viewed'].topic;
const logger = createLogger('test', { level: 'error' });
const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const viewed = (n: number): AnyDomainEvent =>
  createEvent(
    'episode.viewed',
    { episodeId: uuid(n % 7), seriesId: uuid(100), views: 1, windowStart: new Date(0).toISOString(), windowEnd: new Date(1_000).toISOString() },
    { aggregateId: uuid(n % 7), traceId: `restart-${n}` },
  );
const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));

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
  // A restart needs a broker this test may stop; KAFKA_BROKERS names someone
  // else's. Under CI it runs all the same, and fails on stopBroker.
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
    const ids = (from: number, to: number) => events.slice(from, to).map((e) => e.id);
    const appliedIds = async () => (await consumerDb.query<{ id: string }>('SELECT event_id AS id FROM applied')).rows.map((r) => r.id);
    const appliedCount = async () => (await consumerDb.query<{ n: number }>('SELECT count(*)::int AS n FROM applied')).rows[0]?.n ?? 0;
    let next = 0;
    // Each commit is a change and its events together, as a domain writes them.
    const commitNext = async () => {
      await producerDb.transaction((tx) => appendToOutbox(tx, events.slice(next, next + PER_COMMIT)));
      next += PER_COMMIT;
      relay.nudge();
      await pause(PACE_MS);
    };

    // 1. A third of the stream, and on until effects show at the far end (at
    //    most half of it; past that, the stream waits for them).
    while (next < BEFORE_STOP || (next < TOTAL / 2 && (await appliedCount()) === 0)) await commitNext();
    await waitUntil('the first effects applied', 120_000, async () => {
      if ((await appliedCount()) === 0) throw new Error(`none of ${next} applied, ${await relay.pending()} still in the outbox`);
    });
    const appliedBeforeStop = await appliedCount();
    const committedBeforeStop = next;
    // The restart comes mid-stream: some effects before it, and events still to come after it.
    expect(appliedBeforeStop).toBeGreaterThan(0);
    expect(appliedBeforeStop).toBeLessThan(TOTAL);

    // 2. The broker goes down (resolves once its container has exited) and commits keep coming.
    await kafka.stopBroker();
    const appliedAtDown = await appliedCount();
    while (next < committedBeforeStop + WHILE_DOWN) await commitNext();
    const pendingWhileDown = await relay.pending();
    const appliedWhileDown = await appliedIds();
    // Nothing committed during the outage can reach the consumer: the relay holds it.
    expect(pendingWhileDown).toBeGreaterThanOrEqual(WHILE_DOWN);
    const whileDown = new Set(ids(committedBeforeStop, next));
    expect(appliedWhileDown.filter((id) => whileDown.has(id))).toEqual([]);
    // A batch the consumer fetched before the stop may still be handled without
    // the broker, so the count is not asserted to stand still; but whatever is
    // applied by now was committed before the stop.
    const before = new Set(ids(0, committedBeforeStop));
    expect(appliedWhileDown.filter((id) => !before.has(id))).toEqual([]);

    // 3. The broker comes back and the rest of the stream follows.
    await kafka.startBroker();
    while (next < TOTAL) await commitNext();

    const applied = async () =>
      (await consumerDb.query<{ rows: number; distinct: number }>('SELECT count(*)::int AS rows, count(DISTINCT event_id)::int AS distinct FROM applied'))
        .rows[0];
    await waitUntil(`all ${TOTAL} events applied`, 120_000, async () => {
      const now = await applied();
      if ((now?.distinct ?? 0) < TOTAL) throw new Error(`${now?.distinct}/${TOTAL} applied, ${await relay.pending()} still in the outbox`);
    });
    // Redeliveries after the restart are possible (at-least-once) until the group
    // has committed every offset; once it has, nothing more will come.
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    try {
      await waitUntil('the group committed to the end of every partition', 60_000, async () => {
        const ends = await admin.fetchTopicOffsets(TOPIC);
        const [committed] = await admin.fetchOffsets({ groupId: GROUP, topics: [TOPIC] });
        const at = new Map(committed?.partitions.map((p) => [p.partition, p.offset]));
        const behind = ends.filter((p) => at.get(p.partition) !== p.high);
        if (behind.length > 0) throw new Error(`partitions behind: ${behind.map((p) => `${p.partition} at ${at.get(p.partition)}/${p.high}`).join(', ')}`);
      });
    } finally {
      await admin.disconnect();
    }

    console.log(
      `applied before the stop ${appliedBeforeStop}, when the broker was down ${appliedAtDown}, just before the start ${appliedWhileDown.length}; ` +
        `committed before the stop ${committedBeforeStop}, pending while down ${pendingWhileDown}`,
    );
    // Every effect exactly once: no repeat, none lost.
    expect(await applied()).toEqual({ rows: TOTAL, distinct: TOTAL });
    expect(new Set(await appliedIds())).toEqual(new Set(ids(0, TOTAL)));
    expect(await relay.pending()).toBe(0);
  }, 600_000);
});
