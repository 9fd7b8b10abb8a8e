import { describe, expect, it } from 'vitest';
import { Cursor } from '@portal/contracts/api';
import { ProblemException } from './problem.js';
import { countIdCursor, countNameCursor, encodeCursor, numberCursor, pageOf, timeIdCursor } from './cursor.js';

const ID = '6f1c2a34-5b6d-4e7f-8a9b-0c1d2e3f4a5b';
const AT = new Date('2025-03-01T10:00:00.123Z');

const refused = (decode: () => unknown) => {
  let thrown: unknown;
  try {
    decode();
  } catch (error) {
    thrown = error;
  }
  expect(thrown).toBeInstanceOf(ProblemException);
  expect((thrown as ProblemException).status).toBe(400);
  expect((thrown as ProblemException).extra.errors?.map((e) => e.field)).toEqual(['query.cursor']);
};

describe('cursors', () => {
  it('give back the key a page put in, in the form the contract documents', () => {
    const timeId = encodeCursor([AT, ID]);
    expect(Cursor.timeId.safeParse(timeId).success).toBe(true);
    const [at, id] = timeIdCursor(timeId);
    expect(at.toISOString()).toBe(AT.toISOString());
    expect(id).toBe(ID);

    const countId = encodeCursor([1234, ID]);
    expect(Cursor.countId.safeParse(countId).success).toBe(true);
    expect(countIdCursor(countId)).toEqual([1234, ID]);

    const countName = encodeCursor([7, 'tech']);
    expect(Cursor.countName.safeParse(countName).success).toBe(true);
    expect(countNameCursor(countName)).toEqual([7, 'tech']);

    expect(Cursor.number.safeParse(encodeCursor([12])).success).toBe(true);
    expect(numberCursor(encodeCursor([12]))).toBe(12);
  });

  it('pad an early time to 13 digits, so that its cursor stays valid', () => {
    const early = encodeCursor([new Date(5), ID]);
    expect(early).toBe(`0000000000005_${ID}`);
    expect(timeIdCursor(early)[0].getTime()).toBe(5);
  });

  // Whatever the contract's pattern admits, the decoder takes (a fuzzer sends such strings as valid input).
  it.each([
    ['timeId', Cursor.timeId, timeIdCursor, ['0000000000000_00000000-0000-0000-0000-000000000000', `9999999999999_${ID}`]],
    ['countId', Cursor.countId, countIdCursor, [`0_${ID}`, `999999999999999_${ID}`]],
    ['countName', Cursor.countName, countNameCursor, ['0_a', `1_${'z'.repeat(200)}`, '3_Arts & Crafts', '4_x_y']],
    ['number', Cursor.number, numberCursor, ['0', '9999999999']],
  ] as const)('decode every %s the contract admits', (_, schema, decode, samples) => {
    for (const sample of samples) {
      expect(schema.safeParse(sample).success, sample).toBe(true);
      expect(() => decode(sample), sample).not.toThrow();
    }
    expect(timeIdCursor(`9999999999999_${ID}`)[0].getTime()).toBe(9_999_999_999_999);
  });

  it.each([
    ['garbage', 'not-a-cursor'],
    ['an ISO time', `2025-03-01T10:00:00.123Z_${ID}`],
    ['a short time', `12345_${ID}`],
    ['an id that is not a uuid', '1740823200123_x'],
    ['an upper-case id', `1740823200123_${ID.toUpperCase()}`],
    ['a NUL byte', `1740823200123_${ID}\u0000`],
  ])('refuse %s as a time-and-id cursor, with a 400 naming query.cursor', (_, cursor) => {
    expect(Cursor.timeId.safeParse(cursor).success).toBe(false);
    refused(() => timeIdCursor(cursor));
  });

  it('refuse counts and numbers that are not plain digits', () => {
    refused(() => countIdCursor(`-1_${ID}`));
    refused(() => countIdCursor('1_tech'));
    refused(() => countNameCursor('1e3_tech'));
    refused(() => countNameCursor('1_a\u0000'));
    refused(() => numberCursor('1.5'));
    refused(() => numberCursor('12345678901'));
  });
});

describe('pageOf', () => {
  const rows = [1, 2, 3];
  it('gives a cursor at the last item shown when there is one more row', () => {
    expect(pageOf(rows, 2, (n) => n * 10, (n) => [n])).toEqual({ items: [10, 20], nextCursor: '2' });
  });

  it('gives no cursor on the last page', () => {
    expect(pageOf(rows, 3, (n) => n, (n) => [n])).toEqual({ items: [1, 2, 3] });
    expect(pageOf([], 3, (n: number) => n, (n) => [n])).toEqual({ items: [] });
  });
});
