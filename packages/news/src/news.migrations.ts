import type { Migration } from '@portal/db';
import { MESSAGING_MIGRATION } from '@portal/event-bus';

/**
 * The categories' slugs are also the contract's NEWS_CATEGORIES, which the
 * API validates and documents: a migration that changes the set changes that
 * list in the same commit (news.api.spec.ts compares the two). Times are written from JavaScript, to
 * the millisecond, so that a cursor carrying one compares equal to its row.
 */
export const NEWS_MIGRATIONS: readonly Migration[] = [
  MESSAGING_MIGRATION,
  {
    id: '001_news',
    sql: `
      CREATE TABLE categories (
        slug text PRIMARY KEY,
        name text NOT NULL
      );
      INSERT INTO categories (slug, name) VALUES
        ('world', 'World'),
        ('tech', 'Tech'),
        ('culture', 'Culture'),
        ('sports', 'Sports');

      CREATE TABLE articles (
        id uuid PRIMARY KEY,
        title text NOT NULL,
        body text NOT NULL,
        category text NOT NULL REFERENCES categories (slug),
        author_id uuid NOT NULL,
        published_at timestamptz NOT NULL
      );
      CREATE INDEX articles_newest ON articles (published_at DESC, id DESC);
      CREATE INDEX articles_newest_by_category ON articles (category, published_at DESC, id DESC);
    `,
  },
];
