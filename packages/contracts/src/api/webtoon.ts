// Request and response schemas of the webtoon API.
import { z } from 'zod';
import { Cursor, page, pageQuery, title } from './common.js';

const Currency = z.string().regex(/^[A-Z]{3}$/, { error: 'must be 3 upper-case letters (ISO 4217), e.g. USD' });

export const NewSeries = z.object({
  title: title(200),
  synopsis: z.string().max(2000).default(''),
});
export type NewSeries = z.infer<typeof NewSeries>;

export const Series = z.object({
  id: z.uuid(),
  title: z.string(),
  synopsis: z.string(),
  creatorId: z.uuid(),
  episodeCount: z.int(),
  views: z.int(),
  createdAt: z.iso.datetime(),
});
export type Series = z.infer<typeof Series>;
export const SeriesPage = page(Series);

export const NewEpisode = z.object({
  // Bounded by the database's integer column.
  number: z.int().min(1).max(2_147_483_647),
  title: title(200),
  content: z.string().min(1).max(100_000),
  /** 0 means free. */
  priceCents: z.int().min(0),
  currency: Currency.default('USD'),
});
export type NewEpisode = z.infer<typeof NewEpisode>;

/** An episode without its content, as lists show it. */
export const EpisodeSummary = z.object({
  id: z.uuid(),
  seriesId: z.uuid(),
  number: z.int(),
  title: z.string(),
  priceCents: z.int(),
  currency: z.string(),
  free: z.boolean(),
});
export type EpisodeSummary = z.infer<typeof EpisodeSummary>;
export const EpisodePage = page(EpisodeSummary);

/** An episode to read. */
export const Episode = z.object({
  id: z.uuid(),
  seriesId: z.uuid(),
  number: z.int(),
  title: z.string(),
  content: z.string(),
  priceCents: z.int(),
  currency: z.string(),
});
export type Episode = z.infer<typeof Episode>;

export const RankingItem = z.object({
  seriesId: z.uuid(),
  title: z.string(),
  views: z.int(),
  /** 1 + the number of series with more views: series with equal views share a rank. */
  rank: z.int(),
});
export type RankingItem = z.infer<typeof RankingItem>;
export const RankingPage = page(RankingItem);

export const Entitlement = z.object({
  episodeId: z.uuid(),
  seriesId: z.uuid(),
  grantedAt: z.iso.datetime(),
  paymentId: z.uuid(),
});
export type Entitlement = z.infer<typeof Entitlement>;
export const EntitlementPage = page(Entitlement);

/** Episodes of a series, by number: the cursor is the last number seen. */
export const EpisodeListQuery = pageQuery(Cursor.number);
/** Series by views, most first: the cursor is the last [views, id] seen. */
export const RankingQuery = pageQuery(Cursor.countId);
