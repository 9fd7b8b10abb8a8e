import type { Queryable } from '@portal/db';
import { ProblemException } from '@portal/http';

/** An answer as first given for a key, to give again on a repeat. */
export interface StoredResponse {
  readonly status: number;
  /** JSON text, exactly as first sent. */
  readonly body: string;
}

export type Claim = { readonly claimed: true } | { readonly claimed: false; readonly response: StoredResponse };

export const keyReused = (key: string) =>
  new ProblemException(
    422,
    `Idempotency-Key '${key}' was already used for a different request; send a new key for a new operation, or repeat the first request unchanged`,
    { type: 'https://portal.example/problems/idempotency-key-reused' },
  );

/**
 * Claims `key` for this payer inside `tx`, or finds the answer already given.
 * On PostgreSQL a concurrent claim of the same key blocks on the primary key
 * until the first transaction ends: after its commit it conflicts and reads
 * the stored answer; after a rollback it claims the key itself. Embedded
 * PGlite runs one transaction at a time, which gives the same outcome.
 */
export async function claimKey(tx: Queryable, userId: string, key: string, hash: string): Promise<Claim> {
  const { rows: inserted } = await tx.query(
    `INSERT INTO idempotency_keys (user_id, key, request_hash) VALUES ($1, $2, $3)
     ON CONFLICT (user_id, key) DO NOTHING RETURNING 1 AS claimed`,
    [userId, key, hash],
  );
  if (inserted.length === 1) return { claimed: true };
  const { rows } = await tx.query<{ request_hash: string; response_status: number | null; response_body: string | null }>(
    'SELECT request_hash, response_status, response_body FROM idempotency_keys WHERE user_id = $1 AND key = $2',
    [userId, key],
  );
  const row = rows[0];
  if (!row) throw new Error(`idempotency key '${key}' conflicted but cannot be read`);
  if (row.request_hash !== hash) throw keyReused(key);
  // A claim and its answer commit together, so a visible claim has its answer.
  if (row.response_status === null || row.response_body === null) throw new Error(`idempotency key '${key}' has no stored answer`);
  return { claimed: false, response: { status: row.response_status, body: row.response_body } };
}

/** Records the answer to a claimed key, in the transaction of the effect. */
export async function storeResponse(tx: Queryable, userId: string, key: string, response: StoredResponse): Promise<void> {
  await tx.query('UPDATE idempotency_keys SET response_status = $3, response_body = $4 WHERE user_id = $1 AND key = $2', [
    userId,
    key,
    response.status,
    response.body,
  ]);
}
