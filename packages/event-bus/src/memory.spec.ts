import { describe, expect, it } from 'vitest';
import type { AnyDomainEvent } from '@portal/contracts';
import { createEvent } from '@portal/contracts';
import { InMemoryEventBus } from './memory.js';

const uuid = (n: number) => `00000000-0000-4000-8000-${String(n).padStart(12, '0')}`;
const posted = (n: number) => createEvent('post.created', { postId: uuid(n), authorId: uuid(99), title: `post ${n}` }, { aggregateId: uuid(n), traceId: `req-${n}` });

describe('InMemoryEventBus', () => {
  it('delivers each event to every interested group, in order', async () => {
    const bus = new InMemoryEventBus();
    const seen: Record<string, string[]> = { analytics: [], search: [], payments: [] };
    for (const group of Object.keys(seen)) {
      bus.subscribe({
        group,
        events: group === 'payments' ? ['payment.completed'] : ['post.created'],
        handle: async (event) => void seen[group]?.push(event.aggregateId),
      });
    }
    await bus.publish([posted(1), posted(2)]); // before start: held, not lost
    await bus.start();
    await bus.publish([posted(3)]);
    await bus.idle();
    expect(seen).toEqual({ analytics: [uuid(1), uuid(2), uuid(3)], search: [uuid(1), uuid(2), uuid(3)], payments: [] });
  });

  it('retries a failing handler with backoff, then dead-letters the event and moves on', async () => {
    const bus = new InMemoryEventBus({ retries: 2, backoffMs: 1 });
    const attempts: string[] = [];
    bus.subscribe({
      group: 'flaky',
      events: ['post.created'],
      handle: async (event: AnyDomainEvent) => {
        attempts.push(event.aggregateId);
        if (event.aggregateId === uuid(1)) throw new Error('poison');
      },
    });
    await bus.start();
    await bus.publish([posted(1), posted(2)]);
    await bus.idle();
    expect(attempts).toEqual([uuid(1), uuid(1), uuid(1), uuid(2)]);
    expect(bus.deadLetters).toEqual([expect.objectContaining({ group: 'flaky', error: 'poison' })]);
    expect(bus.deadLetters[0]?.event.aggregateId).toBe(uuid(1));
  });

  it('waits for a database that cannot answer, past the retries, and dead-letters nothing', async () => {
    const bus = new InMemoryEventBus({ retries: 2, backoffMs: 1 });
    const refused = () => Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
    let failures = 0;
    const handled: string[] = [];
    bus.subscribe({
      group: 'patient',
      events: ['post.created'],
      handle: async (event: AnyDomainEvent) => {
        // As pg fails while PostgreSQL restarts, ten times over: more than the retries allow.
        if (event.aggregateId === uuid(1) && failures < 10) {
          failures += 1;
          throw refused();
        }
        handled.push(event.aggregateId);
      },
    });
    await bus.start();
    await bus.publish([posted(1), posted(2)]);
    await bus.idle();
    expect(failures).toBe(10);
    expect(handled).toEqual([uuid(1), uuid(2)]);
    expect(bus.deadLetters).toEqual([]);
  });

  it('stops promptly while a handler waits for its database', async () => {
    const bus = new InMemoryEventBus({ backoffMs: 60_000 });
    let attempts = 0;
    bus.subscribe({
      group: 'stuck',
      events: ['post.created'],
      handle: async () => {
        attempts += 1;
        throw Object.assign(new Error('connect ECONNREFUSED 127.0.0.1:5432'), { code: 'ECONNREFUSED' });
      },
    });
    await bus.start();
    await bus.publish([posted(1)]);
    const began = Date.now();
    await bus.stop();
    expect(Date.now() - began).toBeLessThan(5_000);
    expect(attempts).toBeGreaterThan(1);
  });

  it('checks the contract on the way in', async () => {
    const bus = new InMemoryEventBus();
    const bad = { ...posted(1), payload: { postId: 'x' } } as unknown as AnyDomainEvent;
    await expect(bus.publish([bad])).rejects.toThrow(/post\.created: payload\.postId/);
  });

  it('refuses work after stop', async () => {
    const bus = new InMemoryEventBus();
    await bus.start();
    await bus.stop();
    await expect(bus.publish([posted(1)])).rejects.toThrow('the event bus is stopped');
  });
});
