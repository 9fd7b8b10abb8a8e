import type { Migration } from '@portal/db';
import { MESSAGING_MIGRATION } from '@portal/event-bus';

/**
 * Times are stored to the millisecond, as JavaScript holds them, so that a
 * cursor carrying one compares equal to the row it came from.
 * `last_comment_at` keeps a post's comment times strictly increasing, so the
 * list shows them in the order they were added (and their events went out).
 */
export const BLOG_MIGRATIONS: readonly Migration[] = [
  MESSAGING_MIGRATION,
  {
    id: '001_blog',
    sql: `
      CREATE TABLE posts (
        id uuid PRIMARY KEY,
        title text NOT NULL,
        body text NOT NULL,
        author_id uuid NOT NULL,
        created_at timestamptz NOT NULL,
        comment_count int NOT NULL DEFAULT 0,
        last_comment_at timestamptz
      );
      CREATE INDEX posts_newest ON posts (created_at DESC, id DESC);

      CREATE TABLE comments (
        id uuid PRIMARY KEY,
        post_id uuid NOT NULL REFERENCES posts (id),
        author_id uuid NOT NULL,
        body text NOT NULL,
        created_at timestamptz NOT NULL
      );
      CREATE INDEX comments_oldest ON comments (post_id, created_at, id);
    `,
  },
];
