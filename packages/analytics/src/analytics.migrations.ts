import type { Migration } from '@portal/db';
import { MESSAGING_MIGRATION } from '@portal/event-bus';

/** Everything here is derived from events; the inbox (from MESSAGING_MIGRATION) makes each count once. */
export const ANALYTICS_MIGRATIONS: readonly Migration[] = [
  MESSAGING_MIGRATION,
  {
    id: '001_analytics',
    sql: `
      -- Events seen, per name and UTC day of occurrence; last_at is the newest occurrence among them.
      CREATE TABLE event_counts (
        name text NOT NULL,
        day date NOT NULL,
        count bigint NOT NULL,
        last_at timestamptz NOT NULL,
        PRIMARY KEY (name, day)
      );

      -- Episode views, per hour of the end of the window they were counted in.
      CREATE TABLE webtoon_views (
        series_id uuid NOT NULL,
        episode_id uuid NOT NULL,
        hour timestamptz NOT NULL,
        views bigint NOT NULL,
        PRIMARY KEY (series_id, episode_id, hour)
      );
      CREATE INDEX webtoon_views_by_hour ON webtoon_views (hour, series_id);

      CREATE TABLE article_counts (
        -- Byte order: pages follow the same order on every server, whatever its locale.
        category text COLLATE "C" PRIMARY KEY,
        count bigint NOT NULL
      );
      CREATE INDEX article_counts_ranking ON article_counts (count DESC, category);
    `,
  },
];
