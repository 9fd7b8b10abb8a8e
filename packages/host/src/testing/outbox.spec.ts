import { randomUUID } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { createEvent } from '@portal/contracts';
import { migrate, openDatabase } from '@portal/db';
import { MESSAGING_MIGRATION, appendToOutbox } from '@portal/event-bus';
import { readOutbox } from './outbox.js';

describe('readOutbox', () => {
  it('reads the rows in the order they were appended, with whether each was sent', async () => {
    const db = await openDatabase();
    await migrate(db, [MESSAGING_MIGRATION]);
    expect(await readOutbox(db)).toEqual([]);
    const [postId, authorId] = [randomUUID(), randomUUID()];
    const first = createEvent('post.created', { postId, authorId, title: 'One' }, { aggregateId: postId, traceId: 't1' });
    const second = createEvent('comment.added', { commentId: randomUUID(), postId, authorId }, { aggregateId: postId, traceId: 't2' });
    await appendToOutbox(db, [first, second]);
    await db.query("UPDATE outbox SET published_at = now() WHERE name = 'post.created'");
    expect(await readOutbox(db)).toEqual([
      { name: 'post.created', aggregateId: postId, event: first, publishedAt: expect.any(Date) },
      { name: 'comment.added', aggregateId: postId, event: second, publishedAt: null },
    ]);
    await db.close();
  });
});
