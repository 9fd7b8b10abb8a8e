import { Body, Controller, Get, Inject, Param, Post, Query, UseGuards } from '@nestjs/common';
import { IdParam, TimeIdPageQuery } from '@portal/contracts/api';
import type { Entitlement, EpisodeSummary, RankingItem, Series } from '@portal/contracts/api/webtoon';
import { EpisodeListQuery, NewEpisode, NewSeries, RankingQuery } from '@portal/contracts/api/webtoon';
import type { Page, PageQuery } from '@portal/contracts/api';
import { AuthGuard, CurrentUser } from '@portal/http';
import type { AuthenticatedUser } from '@portal/http';
import { WebtoonService } from './webtoon.service.js';

@Controller('api/webtoon')
export class WebtoonController {
  constructor(@Inject(WebtoonService) private readonly webtoon: WebtoonService) {}

  @Get('series')
  listSeries(@Query({ schema: TimeIdPageQuery }) query: PageQuery): Promise<Page<Series>> {
    return this.webtoon.listSeries(query);
  }

  @Post('series')
  @UseGuards(AuthGuard)
  createSeries(@CurrentUser() user: AuthenticatedUser, @Body({ schema: NewSeries }) body: NewSeries): Promise<Series> {
    return this.webtoon.createSeries(user.userId, body);
  }

  @Get('series/:id')
  getSeries(@Param('id', { schema: IdParam }) id: string): Promise<Series> {
    return this.webtoon.getSeries(id);
  }

  @Post('series/:id/episodes')
  @UseGuards(AuthGuard)
  createEpisode(
    @CurrentUser() user: AuthenticatedUser,
    @Param('id', { schema: IdParam }) id: string,
    @Body({ schema: NewEpisode }) body: NewEpisode,
  ): Promise<EpisodeSummary> {
    return this.webtoon.createEpisode(id, user.userId, body);
  }

  @Get('series/:id/episodes')
  listEpisodes(@Param('id', { schema: IdParam }) id: string, @Query({ schema: EpisodeListQuery }) query: PageQuery): Promise<Page<EpisodeSummary>> {
    return this.webtoon.listEpisodes(id, query);
  }

  // GET episodes/:id, the hot path, is served past Nest's router pipeline: see
  // episode.route.ts.

  @Get('rankings')
  rankings(@Query({ schema: RankingQuery }) query: PageQuery): Promise<Page<RankingItem>> {
    return this.webtoon.rankings(query);
  }

  @Get('entitlements')
  @UseGuards(AuthGuard)
  entitlements(@CurrentUser() user: AuthenticatedUser, @Query({ schema: TimeIdPageQuery }) query: PageQuery): Promise<Page<Entitlement>> {
    return this.webtoon.entitlements(user.userId, query);
  }
}
