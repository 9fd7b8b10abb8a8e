import { describe, expect, it } from 'vitest';
import { ContractViolation, EVENT_NAMES, EVENTS, TOPICS, createEvent, deadLetterTopic, parseEvent } from './events.js';

const paymentId = '6f1c2a3e-0b1d-4c5e-9f00-112233445566';
const userId = '0d9b8a7c-6e5f-4a3b-8c2d-1e0f9a8b7c6d';
const episodeId = '9a8b7c6d-5e4f-4a3b-9c1d-0e9f8a7b6c5d';

describe('event contracts', () => {
  it('creates an event with an envelope and round-trips it through JSON', () => {
    const event = createEvent(
      'payment.completed',
      { paymentId, userId, item: { type: 'episode', id: episodeId }, amountCents: 300, currency: 'USD' },
      { aggregateId: paymentId, traceId: 'req-1' },
    );
    expect(event).toMatchObject({ name: 'payment.completed', version: 1, aggregateId: paymentId, traceId: 'req-1' });
    expect(Date.parse(event.occurredAt)).not.toBeNaN();
    expect(parseEvent(JSON.parse(JSON.stringify(event)))).toEqual(event);
  });

  it('refuses to create a malformed event, naming the field', () => {
    expect(() =>
      createEvent('comment.added', { commentId: 'nope', postId: episodeId, authorId: userId }, { aggregateId: 'x', traceId: 't' }),
    ).toThrow(/comment\.added: payload\.commentId: /);
  });

  it('rejects unknown names, unknown versions and bad payloads on the consuming side', () => {
    const good = createEvent('post.created', { postId: episodeId, authorId: userId, title: 'Hi' }, { aggregateId: episodeId, traceId: 't' });
    expect(() => parseEvent({ ...good, name: 'post.deleted' })).toThrow(ContractViolation);
    expect(() => parseEvent({ ...good, version: 2 })).toThrow(/post\.created: version 2 is not known/);
    expect(() => parseEvent({ ...good, payload: { ...good.payload, title: 7 } })).toThrow(/payload\.title/);
    expect(() => parseEvent({ ...good, id: undefined })).toThrow(/event envelope: id/);
  });

  it('knows every event the domain publishes', () => {
    expect(EVENT_NAMES.sort()).toEqual(
      [
        'article.published',
        'comment.added',
        'episode.viewed',
        'payment.completed',
        'payment.failed',
        'payment.refunded',
        'post.created',
        'user.registered',
      ].sort(),
    );
    for (const name of EVENT_NAMES) expect(EVENTS[name].version).toBeGreaterThan(0);
  });
});

describe('topics', () => {
  it('puts every event on its producing domain topic, and names dead letters per group', () => {
    for (const name of EVENT_NAMES) expect(Object.values(TOPICS)).toContain(EVENTS[name].topic);
    expect(EVENTS['payment.refunded'].topic).toBe(EVENTS['payment.completed'].topic);
    expect(deadLetterTopic('webtoon')).toBe('portal.webtoon.dead-letter');
  });
});
