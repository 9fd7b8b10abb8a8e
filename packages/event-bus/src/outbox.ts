import type { AnyDomainEvent, EventBus } from '@portal/contracts';
import { parseEvent } from '@portal/contracts';
import type { Database, Migration, Queryable } from '@portal/db';
import type { Logger } from '@portal/observability';
import { metrics } from '@portal/observability';

/**
 * The outbox (events a service has committed but not yet published) and the
 * inbox (events a consumer group has applied). Every service that produces or
 * consumes events adds this migration to its own.
 */
export const MESSAGING_MIGRATION: Migration = {
  id: '000_messaging',
  sql: `
    CREATE TABLE outbox (
      seq bigserial PRIMARY KEY,
      event_id uuid NOT NULL UNIQUE,
      name text NOT NULL,
      aggregate_id text NOT NULL,
      event jsonb NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now(),
      published_at timestamptz
    );
    CREATE INDEX outbox_pending ON outbox (seq) WHERE published_at IS NULL;
    CREATE TABLE inbox (
      consumer_group text NOT NULL,
      event_id uuid NOT NULL,
      event_name text NOT NULL,
      processed_at timestamptz NOT NULL DEFAULT now(),
      PRIMARY KEY (consumer_group, event_id)
    );
  `,
};

/**
 * Records events in the transaction of the change that caused them: either both
 * commit or neither does, so no event is lost and none is made up.
 */
export async function appendToOutbox(tx: Queryable, events: readonly AnyDomainEvent[]): Promise<void> {
  for (const event of events) {
    await tx.query('INSERT INTO outbox (event_id, name, aggregate_id, event) VALUES ($1, $2, $3, $4)', [
      event.id,
      event.name,
      event.aggregateId,
      JSON.stringify(event),
    ]);
  }
}

export interface OutboxRelayOptions {
  /** How often to look for events when nobody nudges. */
  intervalMs?: number;
  batchSize?: number;
  logger?: Logger;
}

/** Any 64-bit number the services agree on: one relay at a time per database. */
const RELAY_LOCK = 7210418;

/**
 * Publishes what the outbox holds, oldest first, and marks it published. After
 * a crash between commit and publish, the next relay run sends it: at least
 * once, and consumers drop repeats by event id.
 */
export class OutboxRelay {
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private again = false;
  private readonly intervalMs: number;
  private readonly batchSize: number;

  constructor(
    private readonly db: Database,
    private readonly bus: EventBus,
    private readonly options: OutboxRelayOptions = {},
  ) {
    this.intervalMs = options.intervalMs ?? 500;
    this.batchSize = options.batchSize ?? 200;
  }

  start(): void {
    if (this.timer) return;
    this.timer = setInterval(() => this.nudge(), this.intervalMs);
    this.timer.unref();
    this.nudge();
  }

  /** Asks for a run now, e.g. right after a commit that added events. */
  nudge(): void {
    if (this.running) {
      this.again = true;
      return;
    }
    this.running = this.drain()
      .catch((error: unknown) => this.options.logger?.warn('outbox relay run failed; will retry', { error }))
      .finally(() => {
        this.running = undefined;
        if (this.again) {
          this.again = false;
          this.nudge();
        }
      });
  }

  /** Publishes everything pending now; rejects if the bus refuses. */
  async flush(): Promise<void> {
    await this.running;
    // A run nudged meanwhile (by a commit, or the timer) may hold the relay's
    // lock now: wait for it rather than skip, or what it is sending would not
    // be published yet when flush() returns.
    await this.drain(true);
  }

  /** Stops the timer and publishes what is left. */
  async stop(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    this.again = false;
    await this.flush();
  }

  /** Events committed and not yet published. */
  async pending(): Promise<number> {
    return (await this.backlog()).events;
  }

  /** Events committed and not yet published, and the age of the oldest (0 when none): one scan of the pending index. */
  async backlog(): Promise<{ events: number; oldestAgeSeconds: number }> {
    const { rows } = await this.db.query<{ n: number; age: number | string | null }>(
      'SELECT count(*)::int AS n, EXTRACT(EPOCH FROM now() - min(created_at))::float8 AS age FROM outbox WHERE published_at IS NULL',
    );
    return { events: rows[0]?.n ?? 0, oldestAgeSeconds: Math.max(0, Number(rows[0]?.age ?? 0)) };
  }

  private async drain(waitForLock = false): Promise<void> {
    for (;;) {
      const sent = await this.db.transaction(async (tx) => {
        const { rows: lock } = await tx.query<{ ok: boolean }>(
          waitForLock ? 'SELECT true AS ok FROM pg_advisory_xact_lock($1)' : 'SELECT pg_try_advisory_xact_lock($1) AS ok',
          [RELAY_LOCK],
        );
        if (!lock[0]?.ok) return [];
        const { rows } = await tx.query<{ seq: number; event: unknown }>(
          'SELECT seq, event FROM outbox WHERE published_at IS NULL ORDER BY seq LIMIT $1',
          [this.batchSize],
        );
        if (rows.length === 0) return [];
        const events = rows.map((r) => parseEvent(r.event));
        await this.bus.publish(events);
        await tx.query('UPDATE outbox SET published_at = now() WHERE seq = ANY($1::bigint[])', [rows.map((r) => r.seq)]);
        return events;
      });
      // Counted once marked published: a batch whose commit failed goes out again and counts then.
      countPublished(sent);
      if (sent.length < this.batchSize) return;
    }
  }
}

function countPublished(events: readonly AnyDomainEvent[]): void {
  if (events.length === 0) return;
  const byName = new Map<string, number>();
  for (const event of events) byName.set(event.name, (byName.get(event.name) ?? 0) + 1);
  const published = metrics().counter('portal_events_published_total');
  for (const [event, n] of byName) published.inc({ event }, n);
}

/** How long the messaging tables keep what they no longer need. */
export interface MessagingRetention {
  /** A published outbox row, after it was published. */
  readonly outboxMs: number;
  /**
   * An inbox entry, after its event was applied. It is what makes a redelivery
   * a no-op, so it must outlive every way the event can come again: the
   * broker's retention (a consumer group reset) and a dead letter's redrive.
   */
  readonly inboxMs: number;
}

/**
 * Deletes published outbox rows and inbox entries past their retention, a
 * batch per statement (no long lock, no huge transaction), until none is left.
 * Events not yet published are never touched. Returns what it deleted.
 */
export async function pruneMessaging(db: Database, retention: MessagingRetention, batch = 5_000): Promise<{ outbox: number; inbox: number }> {
  const rounds = async (sql: string, keepMs: number) => {
    let deleted = 0;
    for (;;) {
      const { rowCount } = await db.query(sql, [keepMs / 1000, batch]);
      deleted += rowCount;
      if (rowCount < batch) return deleted;
    }
  };
  const outbox = await rounds(
    `DELETE FROM outbox WHERE seq IN (
       SELECT seq FROM outbox WHERE published_at < now() - make_interval(secs => $1) ORDER BY seq LIMIT $2)`,
    retention.outboxMs,
  );
  const inbox = await rounds(
    `DELETE FROM inbox WHERE (consumer_group, event_id) IN (
       SELECT consumer_group, event_id FROM inbox WHERE processed_at < now() - make_interval(secs => $1) LIMIT $2)`,
    retention.inboxMs,
  );
  return { outbox, inbox };
}

/**
 * Applies `effect` for `event` at most once per consumer group: the inbox
 * record and the effect commit together, so a redelivered event finds its
 * record and changes nothing. Returns false for a repeat.
 */
export async function handleOnce(
  db: Database,
  group: string,
  event: AnyDomainEvent,
  effect: (tx: Queryable) => Promise<void>,
): Promise<boolean> {
  const handled = await db.transaction(async (tx) => {
    const { rowCount } = await tx.query(
      'INSERT INTO inbox (consumer_group, event_id, event_name) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING',
      [group, event.id, event.name],
    );
    if (rowCount === 0) return false;
    await effect(tx);
    return true;
  });
  // After the commit: an effect that threw rolled back and is the bus's to count as failed.
  metrics().counter('portal_events_consumed_total').inc({ group, event: event.name, outcome: handled ? 'handled' : 'duplicate' });
  return handled;
}
