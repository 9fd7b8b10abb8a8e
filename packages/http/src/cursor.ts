import type { Page } from '@portal/contracts/api';
import { badRequest } from './problem.js';
import { notTextReason } from './validation.js';

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
  // A string that is not text (a NUL) would reach the query and fail there, as a 500.
  const fits = (v: unknown, i: number) => typeof v === shape[i] && (typeof v !== 'string' || notTextReason(v) === undefined);
  if (!Array.isArray(key) || key.length !== shape.length || !key.every(fits)) {
    throw badRequest([{ field: 'query.cursor', message: 'not a cursor this list gave out' }]);
  }
  return key as (string | number)[];
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** The error every list gives for a cursor it did not hand out. */
export const badCursor = () => badRequest([{ field: 'query.cursor', message: 'not a cursor this list gave out' }]);

/** Years 0 to 9999 only: JavaScript dates reach 271821 BC, PostgreSQL's 4713 BC (a 500 past it). */
const ISO_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

/**
 * The [time, id] inside a cursor, checked to be exactly what a page gave out,
 * so a doctored one is a 400 rather than a database error.
 */
export function timeIdCursor(cursor: string): [Date, string] {
  const [time, id] = decodeCursor(cursor, ['string', 'string']) as [string, string];
  const at = new Date(time);
  if (!ISO_TIME.test(time) || Number.isNaN(at.getTime()) || at.toISOString() !== time || !UUID.test(id)) throw badCursor();
  return [at, id];
}

/** Rows fetched with limit + 1: the extra one only says that there is a next page. */
export function pageOf<R, T>(rows: readonly R[], limit: number, map: (row: R) => T, key: (row: R) => (string | number)[]): Page<T> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  const items = shown.map(map);
  return rows.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(key(last)) } : { items };
}
