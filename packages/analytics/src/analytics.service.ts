import { Inject, Injectable } from '@nestjs/common';
import { EVENT_NAMES } from '@portal/contracts';
import type { EventName } from '@portal/contracts';
import type { PageQuery, Page } from '@portal/contracts/api';
import type { Activity, CategoryCount, TrendingQuery, TrendingWebtoon } from '@portal/contracts/api/analytics';
import type { DomainContext } from '@portal/host';
import { countIdCursor, countNameCursor, pageOf } from '@portal/http';
import { ANALYTICS_CONTEXT } from './analytics.tokens.js';
import { windowStart } from './analytics.time.js';

@Injectable()
export class AnalyticsService {
  constructor(@Inject(ANALYTICS_CONTEXT) private readonly context: DomainContext) {}

  async activity(): Promise<Activity> {
    const { rows } = await this.context.database.query<{ name: string; total: number; last_at: Date }>(
      'SELECT name, sum(count)::bigint AS total, max(last_at) AS last_at FROM event_counts GROUP BY name',
    );
    const totals = Object.fromEntries(EVENT_NAMES.map((name) => [name, 0])) as Record<EventName, number>;
    let last: Date | undefined;
    for (const row of rows) {
      // Counts of an event that is no longer in the contract stay stored but are not reported.
      if (!(row.name in totals)) continue;
      totals[row.name as EventName] = row.total;
      if (!last || row.last_at > last) last = row.last_at;
    }
    return { totals, lastEventAt: last?.toISOString() ?? null };
  }

  async trendingWebtoons(query: TrendingQuery, now: Date = new Date()): Promise<Page<TrendingWebtoon>> {
    const after = query.cursor ? countIdCursor(query.cursor) : undefined;
    const params: unknown[] = [windowStart(now, query.hours).toISOString(), query.limit + 1];
    if (after) params.push(...after);
    const { rows } = await this.context.database.query<{ series_id: string; views: number }>(
      `WITH totals AS (
         SELECT series_id, sum(views)::bigint AS views FROM webtoon_views WHERE hour >= $1::timestamptz GROUP BY series_id
       )
       SELECT series_id, views FROM totals
       ${after ? 'WHERE views < $3::bigint OR (views = $3::bigint AND series_id > $4::uuid)' : ''}
       ORDER BY views DESC, series_id
       LIMIT $2`,
      params,
    );
    return pageOf(rows, query.limit, (r) => ({ seriesId: r.series_id, views: r.views }), (r) => [r.views, r.series_id]);
  }

  async articlesByCategory(query: PageQuery): Promise<Page<CategoryCount>> {
    const after = query.cursor ? countNameCursor(query.cursor) : undefined;
    const params: unknown[] = [query.limit + 1];
    if (after) params.push(...after);
    const { rows } = await this.context.database.query<{ category: string; count: number }>(
      `SELECT category, count FROM article_counts
       ${after ? 'WHERE count < $2::bigint OR (count = $2::bigint AND category > $3::text)' : ''}
       ORDER BY count DESC, category
       LIMIT $1`,
      params,
    );
    return pageOf(rows, query.limit, (r) => ({ category: r.category, articles: r.count }), (r) => [r.count, r.category]);
  }
}
