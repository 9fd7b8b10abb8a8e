import type { Page } from '@portal/contracts/api';
import { badRequest } from './problem.js';

/**
 * Cursors are the sort key of the last item seen, written out plainly (the
 * formats and their patterns: `Cursor` in @portal/contracts/api, which the
 * request schemas validate against first). Keyset pagination stays fast and
 * stable under inserts, where offsets skip or repeat rows. A time is its epoch
 * milliseconds in 13 digits, as the rows store it, so a cursor compares equal
 * to its row.
 */
export function encodeCursor(key: readonly (string | number | Date)[]): string {
  return key.map((part) => (part instanceof Date ? String(part.getTime()).padStart(13, '0') : String(part))).join('_');
}

/** The error every list gives for a cursor it did not hand out. */
export const badCursor = () => badRequest([{ field: 'query.cursor', message: 'not a cursor this list gives out' }]);

const TIME_ID = /^(\d{13})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
const COUNT_ID = /^(\d{1,15})_([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;
// eslint-disable-next-line no-control-regex -- control characters are what the name may not hold
const COUNT_NAME = /^(\d{1,15})_([^\u0000-\u001f\u007f]{1,200})$/;
const NUMBER = /^\d{1,10}$/;

/** The [time, id] inside a `Cursor.timeId`. */
export function timeIdCursor(cursor: string): [Date, string] {
  const match = TIME_ID.exec(cursor);
  if (!match) throw badCursor();
  return [new Date(Number(match[1])), match[2] as string];
}

/** The [count, id] inside a `Cursor.countId`. */
export function countIdCursor(cursor: string): [number, string] {
  const match = COUNT_ID.exec(cursor);
  if (!match) throw badCursor();
  return [Number(match[1]), match[2] as string];
}

/** The [count, name] inside a `Cursor.countName`. */
export function countNameCursor(cursor: string): [number, string] {
  const match = COUNT_NAME.exec(cursor);
  if (!match) throw badCursor();
  return [Number(match[1]), match[2] as string];
}

/** The number inside a `Cursor.number`. */
export function numberCursor(cursor: string): number {
  if (!NUMBER.test(cursor)) throw badCursor();
  return Number(cursor);
}

/** Rows fetched with limit + 1: the extra one only says that there is a next page. */
export function pageOf<R, T>(rows: readonly R[], limit: number, map: (row: R) => T, key: (row: R) => (string | number | Date)[]): Page<T> {
  const shown = rows.slice(0, limit);
  const last = shown.at(-1);
  const items = shown.map(map);
  return rows.length > limit && last !== undefined ? { items, nextCursor: encodeCursor(key(last)) } : { items };
}
