import type { Migration } from '@portal/db';
import { MESSAGING_MIGRATION } from '@portal/event-bus';

/**
 * Times are stored to the millisecond, as JavaScript holds them, so that a
 * cursor carrying one compares equal to the row it came from.
 */
export const WEBTOON_MIGRATIONS: readonly Migration[] = [
  MESSAGING_MIGRATION,
  {
    id: '001_webtoon',
    sql: `
      CREATE TABLE series (
        id uuid PRIMARY KEY,
        title text NOT NULL,
        synopsis text NOT NULL,
        creator_id uuid NOT NULL,
        episode_count int NOT NULL DEFAULT 0,
        views bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
      );
      CREATE INDEX series_newest ON series (created_at DESC, id DESC);
      CREATE INDEX series_ranking ON series (views DESC, id DESC);

      CREATE TABLE episodes (
        id uuid PRIMARY KEY,
        series_id uuid NOT NULL REFERENCES series (id),
        number int NOT NULL CHECK (number >= 1),
        title text NOT NULL,
        content text NOT NULL,
        price_cents bigint NOT NULL CHECK (price_cents >= 0),
        currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
        views bigint NOT NULL DEFAULT 0,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        UNIQUE (series_id, number)
      );

      CREATE TABLE entitlements (
        user_id uuid NOT NULL,
        episode_id uuid NOT NULL REFERENCES episodes (id),
        payment_id uuid NOT NULL,
        granted_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now()),
        PRIMARY KEY (user_id, episode_id)
      );
      CREATE INDEX entitlements_newest ON entitlements (user_id, granted_at DESC, episode_id DESC);
    `,
  },
];
