import { Kafka, logLevel } from 'kafkajs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, createEvent, deadLetterTopic } from '@portal/contracts';
import type { AnyDomainEvent, Subscription } from '@portal/contracts';
import { KafkaEventBus } from '@portal/event-bus/kafka';
import { createLogger, metrics, parseExposition, sampleSum } from '@portal/observability';
import { startKafka, waitUntil } from '@portal/testing';
import type { KafkaServer } from '@portal/testing';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const logger = createLogger('test', { level: 'error' });
const posted = (n: number, post = n) =>
  createEvent('comment.added', { commentId: uuid(n), postId: uuid(post), authorId: uuid(999) }, { aggregateId: uuid(post), traceId: `t-${n}` });

let kafka: KafkaServer;
const buses: KafkaEventBus[] = [];
const counted = async (name: string, labels: Record<string, string>) => sampleSum(parseExposition((await metrics().exposition()).text), name, labels);

function bus(clientId: string, subscriptions: Subscription[] = [], options: { retries?: number; lagIntervalMs?: number } = {}) {
  const b = new KafkaEventBus({ brokers: kafka.brokers, clientId, logger, retries: options.retries ?? 2, backoffMs: 10, lagIntervalMs: options.lagIntervalMs });
  for (const s of subscriptions) b.subscribe(s);
  buses.push(b);
  return b;
}
function recorder(group: string, events: Subscription['events'] = ['comment.added']) {
  const seen: AnyDomainEvent[] = [];
  return { seen, subscription: { group, events, handle: async (e: AnyDomainEvent) => void seen.push(e) } satisfies Subscription };
}

beforeAll(async () => {
  kafka = await startKafka();
});
afterAll(async () => {
  for (const b of buses) await b.stop().catch(() => undefined);
  await kafka?.close();
});

describe('KafkaEventBus', () => {
  it('creates every topic with explicit partitions at start', async () => {
    const producer = bus('blog');
    await producer.start();
    const admin = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).admin();
    await admin.connect();
    const { topics } = await admin.fetchTopicMetadata({ topics: Object.values(TOPICS) });
    await admin.disconnect();
    expect(topics.map((t) => [t.name, t.partitions.length]).sort()).toEqual(Object.values(TOPICS).map((t) => [t, 3]).sort());
  });

  it('delivers every event to every group, one aggregate in order', async () => {
    const a = recorder('search');
    const b = recorder('mail');
    const consumers = bus('consumers', [a.subscription, b.subscription]);
    await consumers.start();
    const producer = bus('blog-2');
    await producer.start();
    const events = [posted(1, 7), posted(2, 8), posted(3, 7), posted(4, 7), posted(5, 8)];
    await producer.publish(events);

    for (const { seen } of [a, b]) {
      await waitUntil('all five delivered', 30_000, async () => {
        if (seen.length < 5) throw new Error(`${seen.length}/5`);
      });
      expect(seen.map((e) => e.id).sort()).toEqual(events.map((e) => e.id).sort());
      const post7 = seen.filter((e) => e.aggregateId === uuid(7)).map((e) => (e.payload as { commentId: string }).commentId);
      expect(post7).toEqual([uuid(1), uuid(3), uuid(4)]);
    }
  });

  it('dead-letters a malformed event with its error and origin, and processes the ones behind it', async () => {
    const r = recorder('moderation');
    const consumer = bus('moderation', [r.subscription]);
    await consumer.start();
    const raw = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).producer();
    await raw.connect();
    const key = uuid(50);
    await raw.send({
      topic: TOPICS.blog,
      messages: [
        { key, value: JSON.stringify({ ...posted(50, 50), payload: { commentId: 'not-a-uuid' } }) },
        { key, value: '{not json' },
        { key, value: JSON.stringify(posted(51, 50)) },
      ],
    });
    await raw.disconnect();

    await waitUntil('the good event behind the poison', 30_000, async () => {
      if (!r.seen.some((e) => e.aggregateId === key)) throw new Error('not yet');
    });
    const letters = await readTopic(deadLetterTopic('moderation'), 2);
    expect(letters.map((l) => l.headers['dlq-error'])).toEqual([expect.stringMatching(/^contract: comment\.added: payload\.commentId/), expect.stringMatching(/^contract: /)]);
    expect(letters[0]?.headers).toMatchObject({ 'dlq-group': 'moderation', 'dlq-origin-topic': TOPICS.blog });
    expect(letters[0]?.key).toBe(key);
    expect(await counted('portal_events_dead_lettered_total', { group: 'moderation', reason: 'schema' })).toBe(2);
  });

  it('retries a failing handler, then dead-letters the event and moves on', async () => {
    let attempts = 0;
    const handled: string[] = [];
    const consumer = bus(
      'flaky',
      [
        {
          group: 'flaky',
          events: ['comment.added'],
          handle: async (event) => {
            const { commentId } = event.payload as { commentId: string };
            if (commentId === uuid(60)) {
              attempts += 1;
              throw new Error('downstream refused');
            }
            handled.push(commentId);
          },
        },
      ],
      { retries: 2 },
    );
    await consumer.start();
    const producer = bus('blog-3');
    await producer.start();
    // One aggregate, so one partition: the second event waits behind the first.
    await producer.publish([posted(60, 70), posted(61, 70)]);
    await waitUntil('the event behind it handled', 30_000, async () => {
      if (!handled.includes(uuid(61))) throw new Error('not yet');
    });
    expect(attempts).toBe(3);
    // The group also read the earlier poison from the start of the topic; this one is its own.
    const letters = await readTopic(deadLetterTopic('flaky'), 3);
    expect(letters.filter((l) => l.key === uuid(70)).map((l) => l.headers['dlq-error'])).toEqual(['handler: downstream refused']);
    expect(await counted('portal_events_failed_total', { group: 'flaky', event: 'comment.added' })).toBe(3);
    expect(await counted('portal_events_dead_lettered_total', { group: 'flaky', reason: 'handler' })).toBe(1);
    expect(await counted('portal_events_dead_lettered_total', { group: 'flaky', reason: 'schema' })).toBe(2);
  });

  it('measures consumer lag per group, topic and partition on a timer: it grows while a handler is stuck and drains to 0', async () => {
    let release: () => void = () => undefined;
    const stuck = new Promise<void>((resolve) => (release = resolve));
    const consumer = bus('lagging', [{ group: 'lagging', events: ['comment.added'], handle: () => stuck }], { lagIntervalMs: 200 });
    await consumer.start();
    const producer = bus('blog-4');
    await producer.start();
    await producer.publish([posted(80, 90), posted(81, 90), posted(82, 90), posted(83, 91)]);
    const lag = () => counted('portal_consumer_lag', { group: 'lagging', topic: TOPICS.blog });
    // Nothing is committed while the handler hangs: at least the four new events wait.
    await waitUntil('the lag of the stuck group', 30_000, async () => {
      if ((await lag()) < 4) throw new Error(`lag ${await lag()}`);
    });
    const partitions = parseExposition((await metrics().exposition()).text).filter((s) => s.name === 'portal_consumer_lag' && s.labels.group === 'lagging');
    expect(partitions.map((s) => s.labels.partition).sort()).toEqual(['0', '1', '2']);
    release();
    await waitUntil('the lag drained', 60_000, async () => {
      if ((await lag()) !== 0) throw new Error(`lag ${await lag()}`);
    });
  });
});

async function readTopic(topic: string, count: number) {
  const consumer = new Kafka({ brokers: kafka.brokers, logLevel: logLevel.NOTHING }).consumer({ groupId: `reader-${Math.random()}` });
  await consumer.connect();
  await consumer.subscribe({ topic, fromBeginning: true });
  const out: { key: string | undefined; headers: Record<string, string> }[] = [];
  await consumer.run({
    eachMessage: async ({ message }) => {
      out.push({
        key: message.key?.toString(),
        headers: Object.fromEntries(Object.entries(message.headers ?? {}).map(([k, v]) => [k, String(v)])),
      });
    },
  });
  try {
    await waitUntil(`${count} messages on ${topic}`, 30_000, async () => {
      if (out.length < count) throw new Error(`${out.length}/${count}`);
    });
  } finally {
    await consumer.disconnect();
  }
  return out;
}
