import assert from 'node:assert/strict';
import type { Problem } from '@portal/contracts/api';
import type { Database } from '@portal/db';
import { DEFAULT_BODY_LIMIT_BYTES } from '../host.js';
import type { Reply } from './http.js';

/**
 * A string one byte longer than a host's default body limit: as any field of
 * an otherwise valid request, it makes the body too large and nothing else.
 */
export const overLimit = (): string => 'x'.repeat(DEFAULT_BODY_LIMIT_BYTES + 1);

/** Fails unless `reply` is the 413 problem document (RFC 9457) a body over the limit gets. */
export function assertTooLarge(reply: Reply<unknown>): void {
  assert.equal(reply.status, 413, `expected 413, got ${reply.status}: ${reply.text}`);
  assert.match(reply.type ?? '', /^application\/problem\+json/);
  const problem = reply.body as Problem;
  assert.equal(problem.status, 413);
  assert.equal(problem.title, 'Content Too Large');
  assert.equal(problem.detail, 'body: the request body is larger than this service accepts');
}

/** How many rows each table holds: equal before and after a request that must write nothing. */
export async function countRows(db: Database, tables: readonly string[]): Promise<Record<string, number>> {
  const counts: Record<string, number> = {};
  for (const table of tables) {
    const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ${table}`);
    counts[table] = rows[0]?.n ?? Number.NaN;
  }
  return counts;
}
