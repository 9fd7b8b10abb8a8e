import { Controller, Get, Inject, Query } from '@nestjs/common';
import type { Page, PageQuery } from '@portal/contracts/api';
import { CategoryCountQuery, TrendingQuery } from '@portal/contracts/api/analytics';
import type { Activity, CategoryCount, TrendingWebtoon } from '@portal/contracts/api/analytics';
import { AnalyticsService } from './analytics.service.js';

@Controller('api/analytics')
export class AnalyticsController {
  constructor(@Inject(AnalyticsService) private readonly analytics: AnalyticsService) {}

  @Get('activity')
  activity(): Promise<Activity> {
    return this.analytics.activity();
  }

  @Get('trending/webtoons')
  trendingWebtoons(@Query({ schema: TrendingQuery }) query: TrendingQuery): Promise<Page<TrendingWebtoon>> {
    return this.analytics.trendingWebtoons(query);
  }

  @Get('articles/by-category')
  articlesByCategory(@Query({ schema: CategoryCountQuery }) query: PageQuery): Promise<Page<CategoryCount>> {
    return this.analytics.articlesByCategory(query);
  }
}
