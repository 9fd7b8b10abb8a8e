// Request and response schemas of the analytics API.
import { z } from 'zod';
import { EVENT_NAMES } from '../events.js';
import type { EventName } from '../events.js';
import { Cursor, page, pageQuery } from './common.js';

export const Activity = z.object({
  /** Events seen, by name; every known name is present, 0 when none came. */
  totals: z.record(z.enum(EVENT_NAMES as [EventName, ...EventName[]]), z.int()),
  /** When the newest event seen happened; null before the first. */
  lastEventAt: z.iso.datetime().nullable(),
});
export type Activity = z.infer<typeof Activity>;

export const TrendingQuery = pageQuery(Cursor.countId).extend({
  /** How far back: the current hour and the `hours - 1` before it. */
  hours: z.coerce.number().int().min(1).max(720).default(24),
});
export type TrendingQuery = z.infer<typeof TrendingQuery>;

export const TrendingWebtoon = z.object({ seriesId: z.uuid(), views: z.int() });
export type TrendingWebtoon = z.infer<typeof TrendingWebtoon>;
export const TrendingWebtoonPage = page(TrendingWebtoon);

export const CategoryCount = z.object({ category: z.string(), articles: z.int() });
export type CategoryCount = z.infer<typeof CategoryCount>;
export const CategoryCountPage = page(CategoryCount);

/** Categories by article count, most first: the cursor is the last [count, category] seen. */
export const CategoryCountQuery = pageQuery(Cursor.countName);
