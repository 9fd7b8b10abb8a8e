import type { Migration } from '@portal/db';
import { MESSAGING_MIGRATION } from '@portal/event-bus';

export const AUTH_MIGRATIONS: readonly Migration[] = [
  MESSAGING_MIGRATION,
  {
    id: '001_auth',
    sql: `
      CREATE TABLE users (
        id uuid PRIMARY KEY,
        email text NOT NULL,
        display_name text NOT NULL,
        -- scrypt$N$r$p$salt$hash: the parameters travel with the hash.
        password_hash text NOT NULL,
        created_at timestamptz NOT NULL DEFAULT date_trunc('milliseconds', now())
      );
      -- Emails are stored lower-case; the index makes sure of it for lookups and uniqueness alike.
      CREATE UNIQUE INDEX users_email ON users (lower(email));

      CREATE TABLE signing_keys (
        kid text PRIMARY KEY,
        private_jwk jsonb NOT NULL,
        public_jwk jsonb NOT NULL,
        created_at timestamptz NOT NULL DEFAULT now()
      );
    `,
  },
];
