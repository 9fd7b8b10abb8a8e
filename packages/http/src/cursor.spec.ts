import { describe, expect, it } from 'vitest';
import { ProblemException } from './problem.js';
import { decodeCursor, encodeCursor, pageOf, timeIdCursor } from './cursor.js';

const ID = '6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b';

describe('timeIdCursor', () => {
  it('gives back the time and id a page put in', () => {
    const [at, id] = timeIdCursor(encodeCursor(['2025-03-01T10:00:00.123Z', ID]));
    expect(at.toISOString()).toBe('2025-03-01T10:00:00.123Z');
    expect(id).toBe(ID);
  });

  it.each([
    ['garbage', 'not-base64-json'],
    ['a time that is not ISO', encodeCursor(['yesterday', ID])],
    ['a time in another notation', encodeCursor(['2025-03-01', ID])],
    ['an id that is not a uuid', encodeCursor(['2025-03-01T10:00:00.123Z', 'x'])],
    ['the wrong shape', encodeCursor([1, ID])],
    ['a time before any PostgreSQL keeps', encodeCursor(['-271821-04-20T00:00:00.000Z', ID])],
    ['a time after year 9999', encodeCursor(['+275760-09-13T00:00:00.000Z', ID])],
    ['a NUL in a string, which PostgreSQL would refuse in the query', encodeCursor(['2025-03-01T10:00:00.123Z\u0000', ID])],
  ])('refuses %s as a 400 naming query.cursor', (_, cursor) => {
    let thrown: unknown;
    try {
      timeIdCursor(cursor);
    } catch (error) {
      thrown = error;
    }
    expect(thrown).toBeInstanceOf(ProblemException);
    expect((thrown as ProblemException).status).toBe(400);
    expect((thrown as ProblemException).extra.errors?.map((e) => e.field)).toEqual(['query.cursor']);
  });
});

describe('decodeCursor', () => {
  it('refuses a string that is not text where the list expects a string', () => {
    expect(decodeCursor(encodeCursor(['tech']), ['string'])).toEqual(['tech']);
    expect(() => decodeCursor(encodeCursor(['tech\u0000']), ['string'])).toThrow(ProblemException);
    expect(() => decodeCursor(encodeCursor(['\ud800']), ['string'])).toThrow(ProblemException);
  });
});

describe('pageOf', () => {
  const rows = [1, 2, 3];
  it('gives a cursor at the last item shown when there is one more row', () => {
    expect(pageOf(rows, 2, (n) => n * 10, (n) => [n])).toEqual({ items: [10, 20], nextCursor: encodeCursor([2]) });
  });

  it('gives no cursor on the last page', () => {
    expect(pageOf(rows, 3, (n) => n, (n) => [n])).toEqual({ items: [1, 2, 3] });
    expect(pageOf([], 3, (n: number) => n, (n) => [n])).toEqual({ items: [] });
  });
});
