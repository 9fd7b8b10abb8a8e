import { z } from 'zod';
import { IdParam } from '@portal/contracts/api';
import { Article, ArticlePage, ArticleQuery, CategoryPage, CategoryQuery, NewArticle } from '@portal/contracts/api/news';
import type { RouteDoc } from '@portal/http';

const ById = z.object({ id: IdParam });

export const NEWS_ROUTES: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/api/news/categories',
    summary: 'The categories an article can be filed under, by slug',
    query: CategoryQuery,
    responses: { 200: { description: 'a page of categories', schema: CategoryPage } },
  },
  {
    method: 'post',
    path: '/api/news/articles',
    summary: 'Publish an article; the signed-in user is its author. `category` is a slug from GET /api/news/categories',
    auth: true,
    body: NewArticle,
    responses: { 201: { description: 'the published article', schema: Article } },
  },
  {
    method: 'get',
    path: '/api/news/articles',
    summary: 'Articles, newest first, optionally of one category (a slug)',
    query: ArticleQuery,
    responses: { 200: { description: 'a page of articles', schema: ArticlePage } },
  },
  {
    method: 'get',
    path: '/api/news/articles/{id}',
    summary: 'One article',
    params: ById,
    responses: { 200: { description: 'the article', schema: Article } },
  },
];
