import { Controller, Get, Inject, Query } from '@nestjs/common';
import { PageQuery } from '@portal/contracts/api';
import type { Page } from '@portal/contracts/api';
import { TrendingQuery } from '@portal/contracts/api/analytics';
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
  articlesByCategory(@Query({ schema: PageQuery }) query: PageQuery): Promise<Page<CategoryCount>> {
    return this.analytics.articlesByCategory(query);
  }
}
