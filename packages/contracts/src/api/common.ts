import { z } from 'zod';

/** RFC 9457 problem details, as every service answers errors. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  /** The id the service logged the request under (also the `x-request-id` header). */
  requestId: z.string().optional(),
  /** For 400s: each invalid field by its path (`body.title`, `query.limit`). */
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

/**
 * A character that is not whitespace as JavaScript's trim() and \\s know it,
 * spelled out: \\s itself differs between regex engines (Python's counts
 * U+0085, not U+FEFF), and the API documents carry this pattern to clients.
 */
// eslint-disable-next-line no-control-regex -- the vertical tab is one of the whitespace characters listed
const NOT_BLANK = /[^\t\n\u000b\f\r \u00a0\u1680\u2000-\u200a\u2028\u2029\u202f\u205f\u3000\ufeff]/;

/** A one-line name (a title): at most `max` characters as sent, kept trimmed, not blank. */
export const title = (max: number) => z.string().max(max).trim().regex(NOT_BLANK, { error: 'must not be blank' });

/** Running text (a body): at most `max` characters, kept as sent, not blank. */
export const prose = (max: number) => z.string().min(1, { abort: true }).max(max).regex(NOT_BLANK, { error: 'must not be blank' });

const UUID = '[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}';
const cursorOf = (pattern: string, example: string) =>
  z
    .string()
    .regex(new RegExp(`^${pattern}$`), { error: `not a cursor this list gives out (e.g. ${example})` })
    .meta({ description: 'The nextCursor of the previous page.' });

/**
 * The cursors of the lists: the sort key of the last item seen, written out
 * plainly. Each list admits exactly the strings its pattern describes, and
 * every one of them is a position in that list, so a doctored cursor is a 400
 * at validation or a valid (if odd) position, never an error further in. The
 * patterns are in the API documents, as the validation uses them.
 */
export const Cursor = {
  /** Newest first by time, then id: `<epoch milliseconds, 13 digits>_<uuid>`. */
  timeId: cursorOf(`\\d{13}_${UUID}`, '1733300000000_2b1f5a4e-8c1d-4c3e-9f5a-1d2e3f4a5b6c'),
  /** Most first by a count, then id: `<count>_<uuid>`. */
  countId: cursorOf(`\\d{1,15}_${UUID}`, '42_2b1f5a4e-8c1d-4c3e-9f5a-1d2e3f4a5b6c'),
  /** Most first by a count, then a name (any text without control characters): `<count>_<name>`. */
  countName: cursorOf('\\d{1,15}_[^\\u0000-\\u001f\\u007f]{1,200}', '42_tech'),
  /** In order of a number: the last number seen. */
  number: cursorOf('\\d{1,10}', '12'),
  /** In order of a slug: the last slug seen. */
  slug: cursorOf('[a-z0-9-]{1,64}', 'sports'),
} as const;

/** The query of a list: how many items, and where the previous page ended (its cursor kind). */
export const pageQuery = (cursor: (typeof Cursor)[keyof typeof Cursor]) =>
  z.object({
    limit: z.coerce.number().int().min(1).max(100).default(20),
    cursor: cursor.optional(),
  });
/** The query of the lists ordered by time, then id (most of them). */
export const TimeIdPageQuery = pageQuery(Cursor.timeId);
/** What every list's query holds, whatever its cursor kind. */
export type PageQuery = z.infer<ReturnType<typeof pageQuery>>;

/** A page of a list: `nextCursor` is absent on the last page. */
export const page = <T extends z.ZodType>(item: T) =>
  z.object({ items: z.array(item), nextCursor: z.string().optional() });
export interface Page<T> {
  items: T[];
  nextCursor?: string;
}

/**
 * Ids as requests carry them, lower-cased: one id is one cache entry and one
 * key however a client spells it (PostgreSQL's uuid type already ignores case).
 */
export const Uuid = z.uuid().toLowerCase();
export const IdParam = z.uuid({ error: 'must be a UUID' }).toLowerCase();
