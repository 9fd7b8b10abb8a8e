import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { Database } from '@portal/db';
import type { DomainContext } from '@portal/host';
import { insertComment, insertPost } from './blog.service.js';
import { BLOG_CONTEXT } from './blog.tokens.js';

/** Fixed ids of the demo post and its comment, for walkthroughs and end-to-end tests of other services. */
export const BLOG_DEMO = {
  authorId: '00000000-0000-4000-8000-000000000000',
  postId: '44444444-4444-4444-8444-000000000001',
  commentId: '44444444-4444-4444-8444-000000000002',
} as const;

/** Any 64-bit number: replicas that start together seed one at a time. */
const SEED_LOCK = 7210502;

/** Writes the demo post and comment into an empty blog; returns whether it did. */
export async function seedDemoPost(database: Database): Promise<boolean> {
  return database.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK]);
    const { rows } = await tx.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM posts) AS any');
    if (rows[0]?.any) return false;
    const writer = { authorId: BLOG_DEMO.authorId, traceId: 'demo-seed' };
    await insertPost(
      tx,
      {
        title: 'Hello from the blog',
        body: 'This is the first post of the portal blog. Sign in to write your own, or leave a comment below.',
      },
      writer,
      { id: BLOG_DEMO.postId, createdAt: new Date('2025-03-01T09:00:00.000Z') },
    );
    await insertComment(tx, BLOG_DEMO.postId, { body: 'Welcome! Looking forward to more.' }, writer, BLOG_DEMO.commentId);
    return true;
  });
}

@Injectable()
export class DemoSeeder implements OnApplicationBootstrap {
  constructor(@Inject(BLOG_CONTEXT) private readonly context: DomainContext) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.context.seedDemoData) return;
    if (await seedDemoPost(this.context.database)) {
      this.context.logger.info('demo post added');
      this.context.outbox.nudge();
    }
  }
}
