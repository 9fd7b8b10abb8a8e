import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { Page, PageQuery } from '@portal/contracts/api';
import type { Entitlement, EpisodeSummary, NewEpisode, NewSeries, RankingItem, Series } from '@portal/contracts/api/webtoon';
import { isUniqueViolation } from '@portal/db';
import type { AuthenticatedUser } from '@portal/http';
import { ProblemException, conflict, countIdCursor, encodeCursor, forbidden, notFound, numberCursor, pageOf, timeIdCursor, unauthorized } from '@portal/http';
import type { DomainContext } from '@portal/host';
import { BoundedCache, textBytes } from './bounded.cache.js';
import { TokenCache } from './token.cache.js';
import { ViewsService } from './views.service.js';
import { WEBTOON_CONTEXT, WEBTOON_OPTIONS } from './webtoon.tokens.js';
import type { WebtoonOptions } from './webtoon.tokens.js';

/** What the read path needs of an episode; `body` is its response, serialised once. */
export interface CachedEpisode {
  readonly id: string;
  readonly seriesId: string;
  readonly priceCents: number;
  readonly currency: string;
  readonly body: string;
}

interface SeriesRow {
  id: string;
  title: string;
  synopsis: string;
  creator_id: string;
  episode_count: number;
  views: number;
  created_at: Date;
}

interface EpisodeRow {
  id: string;
  series_id: string;
  number: number;
  title: string;
  price_cents: number;
  currency: string;
}

/** Room for some 7,000 remembered grants (a user id and an episode id each). */
const GRANT_CACHE_BYTES = 2 * 1024 * 1024;
const BEARER = /^Bearer ([\w-]+\.[\w-]*\.[\w-]*)$/;
const SERIES_COLUMNS = 'id, title, synopsis, creator_id, episode_count, views, created_at';
const EPISODE_COLUMNS = 'id, series_id, number, title, price_cents, currency';

const toSeries = (r: SeriesRow): Series => ({
  id: r.id,
  title: r.title,
  synopsis: r.synopsis,
  creatorId: r.creator_id,
  episodeCount: r.episode_count,
  views: r.views,
  createdAt: r.created_at.toISOString(),
});

const toEpisodeSummary = (r: EpisodeRow): EpisodeSummary => ({
  id: r.id,
  seriesId: r.series_id,
  number: r.number,
  title: r.title,
  priceCents: r.price_cents,
  currency: r.currency,
  free: r.price_cents === 0,
});

export function paymentRequired(episode: CachedEpisode): ProblemException {
  const price = `${(episode.priceCents / 100).toFixed(2)} ${episode.currency}`;
  return new ProblemException(
    402,
    `episode ${episode.id} costs ${price} (priceCents ${episode.priceCents}); pay with POST /api/payment/payments ` +
      `with item {"type":"episode","id":"${episode.id}"}, then read it again`,
    { title: 'Payment Required', type: 'https://portal.example/problems/payment-required' },
  );
}

@Injectable()
export class WebtoonService {
  /** None when the cache is off (episodeCacheBytes 0). Keyed by the id as IdParam lower-cased it. */
  private readonly episodes: BoundedCache<string, CachedEpisode> | undefined;
  /** Loads in progress, so that a burst of reads of an uncached episode makes one query. */
  private readonly loading = new Map<string, Promise<CachedEpisode>>();
  /** Entitlements found recently, by user id + episode id, until when they are trusted. Denials are never kept. */
  private readonly grants = new BoundedCache<string, number>(GRANT_CACHE_BYTES, (key) => textBytes(key));

  constructor(
    @Inject(WEBTOON_CONTEXT) private readonly context: DomainContext,
    @Inject(WEBTOON_OPTIONS) private readonly options: WebtoonOptions,
    private readonly views: ViewsService,
    private readonly tokens: TokenCache,
  ) {
    this.episodes =
      options.episodeCacheBytes > 0 ? new BoundedCache(options.episodeCacheBytes, (id, episode) => textBytes(id, episode.body)) : undefined;
  }

  // --- the hot path -------------------------------------------------------

  /**
   * An episode's response body, if this reader may read it. Once the episode
   * is cached, a free read makes no query, and a paid one at most one (none
   * while its grant is remembered). When the episode, the token and the grant
   * are all known, the body comes back as it is, not in a promise: on this path
   * every promise costs. Refusals are thrown (or rejected when something had to
   * be loaded first); both become the same problem response.
   */
  read(id: string, authorization: string | undefined): string | Promise<string> {
    const episode = this.episodes?.get(id);
    // Unknown episodes are answered 404 before any token is looked at.
    if (episode === undefined) return this.loadEpisode(id).then((loaded) => this.readAs(id, loaded, authorization));
    return this.readAs(id, episode, authorization);
  }

  private readAs(id: string, episode: CachedEpisode, authorization: string | undefined): string | Promise<string> {
    if (authorization === undefined) {
      if (episode.priceCents > 0) {
        throw unauthorized(`header.authorization: episode ${id} is paid; sign in and send "Authorization: Bearer <token>"`);
      }
      return this.served(episode);
    }
    // A token that is sent is checked even for a free episode.
    const known = authorization.startsWith('Bearer ') ? this.tokens.cached(authorization.slice(7)) : undefined;
    if (known === undefined) return this.authenticate(authorization).then((user) => this.readPaidAs(episode, user));
    return this.readPaidAs(episode, known);
  }

  private readPaidAs(episode: CachedEpisode, user: AuthenticatedUser): string | Promise<string> {
    if (episode.priceCents === 0 || this.recentlyGranted(user.userId, episode.id)) return this.served(episode);
    return this.requireEntitlement(user.userId, episode).then(() => this.served(episode));
  }

  /** Counts the view (refused reads are not views) and hands back the body. */
  private served(episode: CachedEpisode): string {
    this.views.record(episode.id, episode.seriesId);
    return episode.body;
  }

  private loadEpisode(id: string): Promise<CachedEpisode> {
    // With the cache off every read is a query of its own, as without any cache.
    if (this.episodes === undefined) return this.queryEpisode(id);
    let pending = this.loading.get(id);
    if (pending === undefined) {
      pending = this.queryEpisode(id).finally(() => this.loading.delete(id));
      this.loading.set(id, pending);
    }
    return pending;
  }

  private async queryEpisode(id: string): Promise<CachedEpisode> {
    const { rows } = await this.context.database.query<EpisodeRow & { content: string }>(
      `SELECT ${EPISODE_COLUMNS}, content FROM episodes WHERE id = $1`,
      [id],
    );
    const row = rows[0];
    if (row === undefined) throw notFound('episode', id);
    const episode: CachedEpisode = {
      id: row.id,
      seriesId: row.series_id,
      priceCents: row.price_cents,
      currency: row.currency,
      body: JSON.stringify({
        id: row.id,
        seriesId: row.series_id,
        number: row.number,
        title: row.title,
        content: row.content,
        priceCents: row.price_cents,
        currency: row.currency,
      }),
    };
    // Episodes never change once written, so a cached one is never stale.
    this.episodes?.set(id, episode);
    return episode;
  }

  private authenticate(authorization: string): Promise<AuthenticatedUser> {
    const match = BEARER.exec(authorization);
    if (!match?.[1]) return Promise.reject(unauthorized('header.authorization: expected "Bearer <token>"'));
    return this.tokens.verify(match[1]);
  }

  /** An entitlement found in the last few seconds; synchronous, for the hot path. */
  private recentlyGranted(userId: string, episodeId: string): boolean {
    const until = this.grants.get(userId + episodeId);
    return until !== undefined && until > Date.now();
  }

  private async requireEntitlement(userId: string, episode: CachedEpisode): Promise<void> {
    const { rowCount } = await this.context.database.query('SELECT 1 FROM entitlements WHERE user_id = $1 AND episode_id = $2', [
      userId,
      episode.id,
    ]);
    if (rowCount === 0) throw paymentRequired(episode);
    if (this.options.grantCacheMs > 0) this.grants.set(userId + episode.id, Date.now() + this.options.grantCacheMs);
  }

  /** Forgets a trusted grant at once, e.g. after a refund this process applied. */
  forgetGrant(userId: string, episodeId: string): void {
    this.grants.delete(userId + episodeId);
  }

  // --- series and episodes ------------------------------------------------

  async listSeries(query: PageQuery): Promise<Page<Series>> {
    const params: unknown[] = [query.limit + 1];
    let where = '';
    if (query.cursor !== undefined) {
      params.push(...timeIdCursor(query.cursor));
      where = 'WHERE (created_at, id) < ($2::timestamptz, $3::uuid)';
    }
    const { rows } = await this.context.database.query<SeriesRow>(
      `SELECT ${SERIES_COLUMNS} FROM series ${where} ORDER BY created_at DESC, id DESC LIMIT $1`,
      params,
    );
    return pageOf(rows, query.limit, toSeries, (r) => [r.created_at, r.id]);
  }

  async getSeries(id: string): Promise<Series> {
    const { rows } = await this.context.database.query<SeriesRow>(`SELECT ${SERIES_COLUMNS} FROM series WHERE id = $1`, [id]);
    if (rows[0] === undefined) throw notFound('series', id);
    return toSeries(rows[0]);
  }

  async createSeries(creatorId: string, body: NewSeries): Promise<Series> {
    const { rows } = await this.context.database.query<SeriesRow>(
      `INSERT INTO series (id, title, synopsis, creator_id) VALUES ($1, $2, $3, $4) RETURNING ${SERIES_COLUMNS}`,
      [randomUUID(), body.title, body.synopsis, creatorId],
    );
    return toSeries(rows[0] as SeriesRow);
  }

  async createEpisode(seriesId: string, userId: string, body: NewEpisode): Promise<EpisodeSummary> {
    try {
      return await this.context.database.transaction(async (tx) => {
        // Locked: the episode count below must not race another new episode.
        const { rows } = await tx.query<{ creator_id: string }>('SELECT creator_id FROM series WHERE id = $1 FOR UPDATE', [seriesId]);
        const series = rows[0];
        if (series === undefined) throw notFound('series', seriesId);
        if (series.creator_id !== userId) throw forbidden(`only the creator of series ${seriesId} can add episodes to it`);
        const inserted = await tx.query<EpisodeRow>(
          `INSERT INTO episodes (id, series_id, number, title, content, price_cents, currency)
           VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING ${EPISODE_COLUMNS}`,
          [randomUUID(), seriesId, body.number, body.title, body.content, body.priceCents, body.currency],
        );
        await tx.query('UPDATE series SET episode_count = episode_count + 1 WHERE id = $1', [seriesId]);
        return toEpisodeSummary(inserted.rows[0] as EpisodeRow);
      });
    } catch (error) {
      if (isUniqueViolation(error)) throw conflict(`series ${seriesId} already has an episode number ${body.number}`);
      throw error;
    }
  }

  async listEpisodes(seriesId: string, query: PageQuery): Promise<Page<EpisodeSummary>> {
    const params: unknown[] = [seriesId, query.limit + 1];
    let after = '';
    if (query.cursor !== undefined) {
      params.push(numberCursor(query.cursor));
      after = 'AND number > $3::bigint';
    }
    const { rows } = await this.context.database.query<EpisodeRow>(
      `SELECT ${EPISODE_COLUMNS} FROM episodes WHERE series_id = $1 ${after} ORDER BY number LIMIT $2`,
      params,
    );
    // An empty page may mean an unknown series; only then is the extra query made.
    if (rows.length === 0) await this.getSeries(seriesId);
    return pageOf(rows, query.limit, toEpisodeSummary, (r) => [r.number]);
  }

  // --- rankings and entitlements ------------------------------------------

  async rankings(query: PageQuery): Promise<Page<RankingItem>> {
    const params: unknown[] = [query.limit + 1];
    let where = '';
    if (query.cursor !== undefined) {
      params.push(...countIdCursor(query.cursor));
      where = 'WHERE (views, id) < ($2::bigint, $3::uuid)';
    }
    const { rows } = await this.context.database.query<{ id: string; title: string; views: number }>(
      `SELECT id, title, views FROM series ${where} ORDER BY views DESC, id DESC LIMIT $1`,
      params,
    );
    const shown = rows.slice(0, query.limit);
    const first = shown[0];
    // Ranks need to know what lies before this page: how many rows, and how many with more views.
    let before = 0;
    let greater = 0;
    if (first !== undefined && query.cursor !== undefined) {
      const { rows: counts } = await this.context.database.query<{ before: number; greater: number }>(
        `SELECT count(*)::int AS before, (count(*) FILTER (WHERE views > $1))::int AS greater
         FROM series WHERE (views, id) > ($1::bigint, $2::uuid)`,
        [first.views, first.id],
      );
      before = counts[0]?.before ?? 0;
      greater = counts[0]?.greater ?? 0;
    }
    const ranked: RankingItem[] = [];
    let rank = greater + 1;
    for (let i = 0; i < shown.length; i += 1) {
      const row = shown[i] as (typeof shown)[number];
      if (i > 0 && row.views !== shown[i - 1]?.views) rank = before + i + 1;
      ranked.push({ seriesId: row.id, title: row.title, views: row.views, rank });
    }
    const last = shown[shown.length - 1];
    return rows.length > query.limit && last !== undefined ? { items: ranked, nextCursor: encodeCursor([last.views, last.id]) } : { items: ranked };
  }

  async entitlements(userId: string, query: PageQuery): Promise<Page<Entitlement>> {
    const params: unknown[] = [userId, query.limit + 1];
    let where = '';
    if (query.cursor !== undefined) {
      params.push(...timeIdCursor(query.cursor));
      where = 'AND (e.granted_at, e.episode_id) < ($3::timestamptz, $4::uuid)';
    }
    const { rows } = await this.context.database.query<{ episode_id: string; series_id: string; granted_at: Date; payment_id: string }>(
      `SELECT e.episode_id, ep.series_id, e.granted_at, e.payment_id
       FROM entitlements e JOIN episodes ep ON ep.id = e.episode_id
       WHERE e.user_id = $1 ${where}
       ORDER BY e.granted_at DESC, e.episode_id DESC LIMIT $2`,
      params,
    );
    return pageOf(
      rows,
      query.limit,
      (r) => ({ episodeId: r.episode_id, seriesId: r.series_id, grantedAt: r.granted_at.toISOString(), paymentId: r.payment_id }),
      (r) => [r.granted_at, r.episode_id],
    );
  }
}
