import { IdParam, Problem, TimeIdPageQuery } from '@portal/contracts/api';
import { EntitlementPage, Episode, EpisodeListQuery, EpisodePage, EpisodeSummary, NewEpisode, NewSeries, RankingPage, RankingQuery, Series, SeriesPage } from '@portal/contracts/api/webtoon';
import type { RouteDoc } from '@portal/http';
import { z } from 'zod';

const ById = z.object({ id: IdParam });

export const WEBTOON_ROUTES: readonly RouteDoc[] = [
  {
    method: 'get',
    path: '/api/webtoon/series',
    summary: 'Series, newest first',
    query: TimeIdPageQuery,
    responses: { 200: { description: 'a page of series', schema: SeriesPage } },
  },
  {
    method: 'post',
    path: '/api/webtoon/series',
    summary: 'Start a series; the signed-in user is its creator',
    auth: true,
    body: NewSeries,
    responses: { 201: { description: 'the new series', schema: Series } },
  },
  {
    method: 'get',
    path: '/api/webtoon/series/{id}',
    summary: 'One series',
    params: ById,
    responses: { 200: { description: 'the series', schema: Series } },
  },
  {
    method: 'post',
    path: '/api/webtoon/series/{id}/episodes',
    summary: "Add an episode to a series (its creator only); priceCents 0 makes it free",
    auth: true,
    params: ById,
    body: NewEpisode,
    responses: {
      201: { description: 'the new episode, without its content', schema: EpisodeSummary },
      403: { description: 'not the creator of the series', schema: Problem },
      409: { description: 'the series already has an episode with this number', schema: Problem },
    },
  },
  {
    method: 'get',
    path: '/api/webtoon/series/{id}/episodes',
    summary: 'Episodes of a series, by number',
    params: ById,
    query: EpisodeListQuery,
    responses: { 200: { description: 'a page of episodes, without their content', schema: EpisodePage } },
  },
  {
    method: 'get',
    path: '/api/webtoon/episodes/{id}',
    summary:
      'Read an episode. Free ones need no token; a paid one needs a bearer token and an entitlement (pay with POST /api/payment/payments). A token sent must be valid.',
    auth: 'optional',
    params: ById,
    responses: {
      200: { description: 'the episode, with its content', schema: Episode },
      401: { description: 'a paid episode without a token, or an invalid token', schema: Problem },
      402: { description: 'a paid episode this reader has not paid for', schema: Problem },
    },
  },
  {
    method: 'get',
    path: '/api/webtoon/rankings',
    summary: 'Series by total views, most first',
    query: RankingQuery,
    responses: { 200: { description: 'a page of ranked series', schema: RankingPage } },
  },
  {
    method: 'get',
    path: '/api/webtoon/entitlements',
    summary: 'Episodes the signed-in user has unlocked, newest first',
    auth: true,
    query: TimeIdPageQuery,
    responses: { 200: { description: 'a page of entitlements', schema: EntitlementPage } },
  },
];
