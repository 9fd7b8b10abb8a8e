import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createEvent } from '@portal/contracts';
import type { Page, PageQuery } from '@portal/contracts/api';
import type { Article, ArticleQuery, Category, NewArticle } from '@portal/contracts/api/news';
import type { Queryable } from '@portal/db';
import { appendToOutbox } from '@portal/event-bus';
import type { DomainContext } from '@portal/host';
import { notFound, pageOf, timeIdCursor } from '@portal/http';
import { NEWS_CONTEXT } from './news.tokens.js';

interface ArticleRow {
  id: string;
  title: string;
  body: string;
  category: string;
  author_id: string;
  published_at: Date;
}

const ARTICLE_COLUMNS = 'id, title, body, category, author_id, published_at';

const toArticle = (r: ArticleRow): Article => ({
  id: r.id,
  title: r.title,
  body: r.body,
  category: r.category,
  authorId: r.author_id,
  publishedAt: r.published_at.toISOString(),
});

/** An article to publish, with what the request does not say: who, when, and the request it came from. */
export interface Publication extends NewArticle {
  readonly authorId: string;
  readonly traceId: string;
  readonly id?: string;
  readonly publishedAt?: Date;
}

/** Inserts an article and its article.published event in the caller's transaction. */
export async function insertArticle(tx: Queryable, article: Publication): Promise<Article> {
  const id = article.id ?? randomUUID();
  const publishedAt = article.publishedAt ?? new Date();
  const { rows } = await tx.query<ArticleRow>(
    `INSERT INTO articles (id, title, body, category, author_id, published_at) VALUES ($1, $2, $3, $4, $5, $6)
     RETURNING ${ARTICLE_COLUMNS}`,
    [id, article.title, article.body, article.category, article.authorId, publishedAt],
  );
  await appendToOutbox(tx, [
    createEvent(
      'article.published',
      { articleId: id, authorId: article.authorId, category: article.category, title: article.title },
      { aggregateId: id, traceId: article.traceId, occurredAt: publishedAt },
    ),
  ]);
  return toArticle(rows[0] as ArticleRow);
}

@Injectable()
export class NewsService {
  constructor(@Inject(NEWS_CONTEXT) private readonly context: DomainContext) {}

  async listCategories(query: PageQuery): Promise<Page<Category>> {
    // A slug cursor is the last slug seen, as it is.
    const after = query.cursor ?? null;
    const { rows } = await this.context.database.query<Category>(
      'SELECT slug, name FROM categories WHERE $1::text IS NULL OR slug > $1::text ORDER BY slug LIMIT $2',
      [after, query.limit + 1],
    );
    return pageOf(rows, query.limit, (r) => ({ slug: r.slug, name: r.name }), (r) => [r.slug]);
  }

  async publish(article: Publication): Promise<Article> {
    // The category is one of the contract's (validated); the table's foreign key holds the same set.
    const created = await this.context.database.transaction((tx) => insertArticle(tx, article));
    this.context.outbox.nudge();
    return created;
  }

  async listArticles(query: ArticleQuery): Promise<Page<Article>> {
    const [time, id] = query.cursor === undefined ? [null, null] : timeIdCursor(query.cursor);
    const { rows } = await this.context.database.query<ArticleRow>(
      `SELECT ${ARTICLE_COLUMNS} FROM articles
       WHERE ($1::text IS NULL OR category = $1::text)
         AND ($2::timestamptz IS NULL OR (published_at, id) < ($2::timestamptz, $3::uuid))
       ORDER BY published_at DESC, id DESC
       LIMIT $4`,
      [query.category ?? null, time, id, query.limit + 1],
    );
    return pageOf(rows, query.limit, toArticle, (r) => [r.published_at, r.id]);
  }

  async getArticle(id: string): Promise<Article> {
    const { rows } = await this.context.database.query<ArticleRow>(`SELECT ${ARTICLE_COLUMNS} FROM articles WHERE id = $1`, [id]);
    const row = rows[0];
    if (row === undefined) throw notFound('article', id);
    return toArticle(row);
  }

}
