// Request and response schemas of the news API.
import { z } from 'zod';
import { Cursor, page, pageQuery, prose, title } from './common.js';

/**
 * The categories an article is filed under. The news service's table holds
 * them too (with their names; a test keeps the two equal), and the API
 * documents list them, so a client knows the set before it asks.
 */
export const NEWS_CATEGORIES = ['culture', 'sports', 'tech', 'world'] as const;
const CategorySlug = z.enum(NEWS_CATEGORIES, {
  error: (issue) => `unknown category '${String(issue.input)}'; expected one of: ${NEWS_CATEGORIES.join(', ')}`,
});

export const Category = z.object({ slug: z.string(), name: z.string() });
export type Category = z.infer<typeof Category>;
export const CategoryPage = page(Category);
export const CategoryQuery = pageQuery(Cursor.slug);
export type CategoryQuery = z.infer<typeof CategoryQuery>;

export const NewArticle = z.object({
  title: title(200),
  body: prose(20_000),
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
export const ArticleQuery = pageQuery(Cursor.timeId).extend({ category: CategorySlug.optional() });
export type ArticleQuery = z.infer<typeof ArticleQuery>;
