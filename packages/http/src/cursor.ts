import { badRequest } from './problem.js';

/**
 * Cursors are opaque to clients: the sort key of the last item seen, as
 * base64url JSON. Keyset pagination stays fast and stable under inserts,
 * where offsets skip or repeat rows.
 */
export function encodeCursor(key: readonly (string | number)[]): string {
  return Buffer.from(JSON.stringify(key)).toString('base64url');
}

/** The key inside a cursor, checked against the shape the list expects. */
export function decodeCursor(cursor: string, shape: readonly ('string' | 'number')[]): (string | number)[] {
  let key: unknown;
  try {
    key = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8'));
  } catch {
    key = undefined;
  }
  if (!Array.isArray(key) || key.length !== shape.length || key.some((v, i) => typeof v !== shape[i])) {
    throw badRequest([{ field: 'query.cursor', message: 'not a cursor this list gave out' }]);
  }
  return key as (string | number)[];
}
