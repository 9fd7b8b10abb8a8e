// Request and response schemas of the news API.
import { z } from 'zod';
import { PageQuery, page } from './common.js';

/** A category's slug as requests carry it; which slugs exist is the news service's data, checked there. */
const CategorySlug = z.string().trim().min(1).max(64);

export const Category = z.object({ slug: z.string(), name: z.string() });
export type Category = z.infer<typeof Category>;
export const CategoryPage = page(Category);

export const NewArticle = z.object({
  title: z.string().trim().min(1).max(200),
  body: z.string().min(1, { abort: true }).max(20_000).regex(/\S/, { error: 'must not be blank' }),
  category: CategorySlug,
});
export type NewArticle = z.infer<typeof NewArticle>;

export const Article = z.object({
  id: z.uuid(),
  title: z.string(),
  body: z.string(),
  /** The category's slug. */
  category: z.string(),
  authorId: z.uuid(),
  publishedAt: z.iso.datetime(),
});
export type Article = z.infer<typeof Article>;
export const ArticlePage = page(Article);

/** Articles, newest first, optionally of one category. */
export const ArticleQuery = PageQuery.extend({ category: CategorySlug.optional() });
export type ArticleQuery = z.infer<typeof ArticleQuery>;
