/**
 * Retention: the outbox, the inbox and payment's idempotency keys stay
 * bounded under steady traffic. Each wave of payments is made, published, then
 * aged past every retention (timestamps moved back, no waiting); the host's
 * prune then leaves nothing of it, so the tables never hold more than a wave.
 * Rows still in use stay: a pending event, and what is within its retention.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '@portal/db';
import type { Host } from '@portal/host';
import { fakeAuth, startTestHost } from '@portal/host/testing';
import type { FakeAuth } from '@portal/host/testing';
import { createDatabase, startPostgres } from '@portal/testing';
import type { PostgresServer } from '@portal/testing';
import { paymentDomain } from '../src/index.js';
import { client, paymentRequest } from './support.js';

const WAVE = 6;

describe('retention of the outbox, the inbox and the idempotency keys', () => {
  let server: PostgresServer;
  let host: Host;
  let db: Database;
  let auth: FakeAuth;

  const counts = async () => {
    const { rows } = await db.query<{ outbox: number; inbox: number; keys: number }>(
      'SELECT (SELECT count(*) FROM outbox)::int AS outbox, (SELECT count(*) FROM inbox)::int AS inbox, (SELECT count(*) FROM idempotency_keys)::int AS keys',
    );
    return rows[0] as { outbox: number; inbox: number; keys: number };
  };
  /** A wave of traffic: payments (each a key and an event) and as many events applied by a consumer group. */
  const wave = async () => {
    const api = client(host.url, await auth.token(randomUUID()));
    for (let i = 0; i < WAVE; i += 1) {
      expect((await api.post('/api/payment/payments', { key: randomUUID(), body: paymentRequest() })).status).toBe(201);
      await db.query('INSERT INTO inbox (consumer_group, event_id, event_name) VALUES ($1, $2, $3)', ['payment', randomUUID(), 'payment.completed']);
    }
    await host.flushOutboxes();
  };
  /** Everything there is, older than every retention (defaults: 24 h, 14 days, 48 h). */
  const age = async () => {
    await db.query("UPDATE outbox SET created_at = created_at - interval '30 days', published_at = published_at - interval '30 days'");
    await db.query("UPDATE inbox SET processed_at = processed_at - interval '30 days'");
    await db.query("UPDATE idempotency_keys SET created_at = created_at - interval '30 days'");
  };

  beforeAll(async () => {
    server = await startPostgres();
    auth = await fakeAuth();
    host = await startTestHost([auth.domain, paymentDomain], { PAYMENT_DATABASE_URL: await createDatabase(server, 'payment-retention') });
    db = host.databases.get('payment') as Database;
  });
  afterAll(async () => {
    await host?.close();
    await server?.close();
  });

  it('keeps each table within one wave of traffic, wave after wave', async () => {
    const seen: { outbox: number; inbox: number; keys: number }[] = [];
    for (let round = 0; round < 3; round += 1) {
      await wave();
      seen.push(await counts());
      await age();
      const deleted = await host.pruneNow();
      expect(deleted.payment).toBe(3 * WAVE);
      expect(await counts()).toEqual({ outbox: 0, inbox: 0, keys: 0 });
    }
    // Each wave found the tables as the prune left them: they never grew past one wave.
    expect(seen).toEqual([...Array(3)].map(() => ({ outbox: WAVE, inbox: WAVE, keys: WAVE })));
  });

  it('keeps what is within its retention, and an event not yet published however old', async () => {
    await wave();
    const pending = randomUUID();
    await db.query(
      `INSERT INTO outbox (event_id, name, aggregate_id, event, created_at, published_at)
       VALUES ($1, 'payment.completed', 'x', '{}'::jsonb, now() - interval '90 days', NULL)`,
      [pending],
    );
    // Nothing is old enough yet; the pending row is old but unpublished.
    expect((await host.pruneNow()).payment).toBe(0);
    expect(await counts()).toEqual({ outbox: WAVE + 1, inbox: WAVE, keys: WAVE });
    const { rowCount } = await db.query('SELECT 1 FROM outbox WHERE event_id = $1 AND published_at IS NULL', [pending]);
    expect(rowCount).toBe(1);
    await db.query('DELETE FROM outbox WHERE event_id = $1', [pending]);
  });
});
