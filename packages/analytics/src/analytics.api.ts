import { Activity, CategoryCountPage, CategoryCountQuery, TrendingQuery, TrendingWebtoonPage } from '@portal/contracts/api/analytics';
import type { RouteDoc } from '@portal/http';

export const ANALYTICS_ROUTES: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/api/analytics/activity',
    summary: 'How many of each event there have been, and when the newest happened',
    responses: { 200: { description: 'totals by event name', schema: Activity } },
  },
  {
    method: 'get',
    path: '/api/analytics/trending/webtoons',
    summary: 'Series by views in the last `hours` hours (the current hour and the ones before it), most first',
    query: TrendingQuery,
    responses: { 200: { description: 'a page of series and their views', schema: TrendingWebtoonPage } },
  },
  {
    method: 'get',
    path: '/api/analytics/articles/by-category',
    summary: 'Published articles per category, most first',
    query: CategoryCountQuery,
    responses: { 200: { description: 'a page of categories and their article counts', schema: CategoryCountPage } },
  },
];
