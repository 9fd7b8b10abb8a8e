import type { AnyDomainEvent } from '@portal/contracts';
import type { Database } from '@portal/db';

export interface OutboxRow {
  readonly name: string;
  readonly aggregateId: string;
  readonly event: AnyDomainEvent;
  /** When the relay sent it; null while it waits. */
  readonly publishedAt: Date | null;
}

/** What a domain's writes appended to its outbox, in the order the relay sends it. */
export async function readOutbox(db: Database): Promise<OutboxRow[]> {
  const { rows } = await db.query<{ name: string; aggregate_id: string; event: AnyDomainEvent; published_at: Date | null }>(
    'SELECT name, aggregate_id, event, published_at FROM outbox ORDER BY seq',
  );
  return rows.map((r) => ({ name: r.name, aggregateId: r.aggregate_id, event: r.event, publishedAt: r.published_at }));
}
