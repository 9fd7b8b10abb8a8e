import type { Migration } from '@portal/db';
import { MESSAGING_MIGRATION } from '@portal/event-bus';
import { SIMULATED_PROVIDER_MIGRATION } from './simulated.provider.js';

const PAYMENTS: Migration = {
  id: '001_payments',
  sql: `
    CREATE TABLE payments (
      id uuid PRIMARY KEY,
      user_id uuid NOT NULL,
      item_type text NOT NULL CHECK (item_type IN ('episode')),
      item_id uuid NOT NULL,
      amount_cents bigint NOT NULL CHECK (amount_cents > 0),
      currency text NOT NULL CHECK (currency ~ '^[A-Z]{3}$'),
      status text NOT NULL CHECK (status IN ('completed', 'failed', 'refunded')),
      failure_reason text,
      created_at timestamptz NOT NULL,
      refunded_at timestamptz,
      CHECK ((status = 'failed') = (failure_reason IS NOT NULL)),
      CHECK ((status = 'refunded') = (refunded_at IS NOT NULL))
    );
    CREATE INDEX payments_by_user ON payments (user_id, created_at DESC, id DESC);

    -- Money that moved, signed: a charge adds, a refund takes away. One of each
    -- per payment at most, so a retried write cannot book twice.
    CREATE TABLE ledger_entries (
      id uuid PRIMARY KEY,
      payment_id uuid NOT NULL REFERENCES payments (id),
      kind text NOT NULL CHECK (kind IN ('charge', 'refund')),
      amount_cents bigint NOT NULL CHECK ((kind = 'charge' AND amount_cents > 0) OR (kind = 'refund' AND amount_cents < 0)),
      currency text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      UNIQUE (payment_id, kind)
    );

    -- One row per (payer, key): claimed by the first request, answered in the
    -- same transaction as its effect. A concurrent insert of the same key waits
    -- on the primary key until that transaction ends. The body is text, not
    -- jsonb, so a replay sends the same bytes (jsonb reorders keys).
    CREATE TABLE idempotency_keys (
      user_id uuid NOT NULL,
      key text NOT NULL,
      request_hash text NOT NULL,
      response_status int,
      response_body text,
      created_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (user_id, key)
    );
  `,
};

export const PAYMENT_MIGRATIONS: readonly Migration[] = [MESSAGING_MIGRATION, PAYMENTS, SIMULATED_PROVIDER_MIGRATION];
