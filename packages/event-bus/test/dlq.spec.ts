import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TOPICS, createEvent } from '@portal/contracts';
import type { AnyDomainEvent } from '@portal/contracts';
import { listDeadLetters, redriveDeadLetters } from '@portal/event-bus/dlq';
import { KafkaEventBus } from '@portal/event-bus/kafka';
import { createLogger } from '@portal/observability';
import { startKafka, waitUntil } from '@portal/testing';
import type { KafkaServer } from '@portal/testing';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const logger = createLogger('test', { level: 'error' });
const posted = (n: number) =>
  createEvent('comment.added', { commentId: uuid(n), postId: uuid(500), authorId: uuid(999) }, { aggregateId: uuid(500), traceId: `t-${n}` });

let kafka: KafkaServer;
const buses: KafkaEventBus[] = [];

beforeAll(async () => {
  kafka = await startKafka();
});
afterAll(async () => {
  for (const b of buses) await b.stop().catch(() => undefined);
  await kafka?.close();
});

describe('npm run dlq: dead letters listed and redriven', () => {
  it('lists a dead letter with its origin and error, redrives it once it can succeed, and never twice', async () => {
    let broken = true;
    const applied: string[] = [];
    const consumer = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'fixable', logger, retries: 1, backoffMs: 10 });
    consumer.subscribe({
      group: 'fixable',
      events: ['comment.added'],
      handle: async (event: AnyDomainEvent) => {
        const { commentId } = event.payload as { commentId: string };
        if (broken && commentId === uuid(2)) throw new Error('downstream refused');
        applied.push(commentId);
      },
    });
    buses.push(consumer);
    await consumer.start();
    const producer = new KafkaEventBus({ brokers: kafka.brokers, clientId: 'blog', logger });
    buses.push(producer);
    await producer.start();
    const events = [posted(1), posted(2), posted(3)];
    await producer.publish(events);
    await waitUntil('the events around the failing one applied', 30_000, async () => {
      if (!applied.includes(uuid(3))) throw new Error(applied.join(','));
    });
    expect(applied).toEqual([uuid(1), uuid(3)]);

    const listed = await listDeadLetters(kafka.brokers, 'portal.fixable.dead-letter');
    expect(listed).toHaveLength(1);
    expect(listed[0]).toMatchObject({
      eventId: events[1]?.id,
      eventName: 'comment.added',
      group: 'fixable',
      originTopic: TOPICS.blog,
      error: 'handler: downstream refused',
      redriven: false,
    });
    expect(listed[0]?.originOffset).toMatch(/^\d+$/);

    // The cause is fixed; the letter goes back to its topic and is applied, once.
    broken = false;
    const redriven = await redriveDeadLetters(kafka.brokers, 'fixable');
    expect(redriven.map((l) => l.eventId)).toEqual([events[1]?.id]);
    await waitUntil('the redriven event applied', 30_000, async () => {
      if (!applied.includes(uuid(2))) throw new Error(applied.join(','));
    });

    // A second redrive finds nothing new: the letter stays listed, marked redriven.
    expect(await redriveDeadLetters(kafka.brokers, 'fixable')).toEqual([]);
    const after = await listDeadLetters(kafka.brokers, 'fixable');
    expect(after.map((l) => [l.eventId, l.redriven])).toEqual([[events[1]?.id, true]]);
    // Applied once: the second redrive sent nothing.
    await consumer.stop();
    expect(applied.filter((id) => id === uuid(2))).toHaveLength(1);
  }, 120_000);

  it('names the dead-letter topics there are when asked for one that is not', async () => {
    await expect(listDeadLetters(kafka.brokers, 'nobody')).rejects.toThrow(/no topic portal\.nobody\.dead-letter on this broker; dead-letter topics here: .*portal\.fixable\.dead-letter/);
  });
});
