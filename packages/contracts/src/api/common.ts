import { z } from 'zod';

/** RFC 9457 problem details, as every service answers errors. */
export const Problem = z.object({
  type: z.string(),
  title: z.string(),
  status: z.int(),
  detail: z.string().optional(),
  instance: z.string().optional(),
  /** For 400s: each invalid field by its path (`body.title`, `query.limit`). */
  errors: z.array(z.object({ field: z.string(), message: z.string() })).optional(),
});
export type Problem = z.infer<typeof Problem>;

/** Query of every list endpoint: cursor pagination, newest first. */
export const PageQuery = z.object({
  limit: z.coerce.number().int().min(1).max(100).default(20),
  cursor: z.string().min(1).max(200).optional(),
});
export type PageQuery = z.infer<typeof PageQuery>;

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
