import { randomUUID } from 'node:crypto';
import type { Content } from './setup.js';

/** A random source in [0, 1): seeded in tests and runs, so a mix is reproducible. */
export type Random = () => number;

/** mulberry32: tiny, fast and good enough to pick requests; not for secrets. */
export function seededRandom(seed: number): Random {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296;
  };
}

const pick = <T>(items: readonly T[], random: Random): T => {
  if (items.length === 0) throw new Error('pick from an empty list');
  return items[Math.floor(random() * items.length)] as T;
};

export interface Request {
  readonly method: 'GET' | 'POST';
  readonly path: string;
  readonly headers?: Record<string, string>;
  readonly body?: string;
}

/** One kind of request in a mix, named by its route template (as the services' metrics name it). */
export interface Operation {
  readonly route: string;
  /** The service that answers it: the path's segment after /api/. */
  readonly service: string;
  /** Answers that are the API working as designed (a 402 for a locked episode is not an error). */
  readonly expect: readonly number[];
  build(content: Content, random: Random): Request;
}

export interface MixEntry {
  readonly op: Operation;
  readonly weight: number;
}

export interface Mix {
  readonly name: string;
  readonly entries: readonly MixEntry[];
}

const bearer = (content: Content, random: Random) => ({ authorization: `Bearer ${pick(content.users, random).token}` });
const json = { 'content-type': 'application/json' };
const op = (route: string, expect: readonly number[], build: Operation['build']): Operation => {
  const service = /^\/api\/([^/]+)/.exec(route.split(' ')[1] ?? '')?.[1];
  if (!service) throw new Error(`route '${route}' is not 'METHOD /api/<service>/...'`);
  return { route, service, expect, build };
};

/** Every operation the load generator knows, by route. */
export const OPERATIONS = {
  readEpisode: op('GET /api/webtoon/episodes/:id', [200, 402], (c, r) =>
    // One read in ten is of a paid episode, signed in: 402 until that user has paid for it.
    c.paidEpisodes.length > 0 && r() < 0.1
      ? { method: 'GET', path: `/api/webtoon/episodes/${pick(c.paidEpisodes, r).id}`, headers: bearer(c, r) }
      : { method: 'GET', path: `/api/webtoon/episodes/${pick(c.freeEpisodes, r)}` },
  ),
  listEpisodes: op('GET /api/webtoon/series/:id/episodes', [200], (c, r) => ({
    method: 'GET',
    path: `/api/webtoon/series/${pick(c.series, r)}/episodes`,
  })),
  listSeries: op('GET /api/webtoon/series', [200], () => ({ method: 'GET', path: '/api/webtoon/series' })),
  getSeries: op('GET /api/webtoon/series/:id', [200], (c, r) => ({ method: 'GET', path: `/api/webtoon/series/${pick(c.series, r)}` })),
  rankings: op('GET /api/webtoon/rankings', [200], () => ({ method: 'GET', path: '/api/webtoon/rankings' })),
  listArticles: op('GET /api/news/articles', [200], (c, r) =>
    r() < 0.5
      ? { method: 'GET', path: '/api/news/articles' }
      : { method: 'GET', path: `/api/news/articles?category=${encodeURIComponent(pick(c.categories, r))}` },
  ),
  readArticle: op('GET /api/news/articles/:id', [200], (c, r) => ({ method: 'GET', path: `/api/news/articles/${pick(c.articles, r)}` })),
  categories: op('GET /api/news/categories', [200], () => ({ method: 'GET', path: '/api/news/categories' })),
  listPosts: op('GET /api/blog/posts', [200], () => ({ method: 'GET', path: '/api/blog/posts' })),
  readPost: op('GET /api/blog/posts/:id', [200], (c, r) => ({ method: 'GET', path: `/api/blog/posts/${pick(c.posts, r)}` })),
  listComments: op('GET /api/blog/posts/:id/comments', [200], (c, r) => ({ method: 'GET', path: `/api/blog/posts/${pick(c.posts, r)}/comments` })),
  publishArticle: op('POST /api/news/articles', [201], (c, r) => ({
    method: 'POST',
    path: '/api/news/articles',
    headers: { ...bearer(c, r), ...json },
    body: JSON.stringify({ title: 'Load test article', body: 'Written by the load generator.', category: pick(c.categories, r) }),
  })),
  writePost: op('POST /api/blog/posts', [201], (c, r) => ({
    method: 'POST',
    path: '/api/blog/posts',
    headers: { ...bearer(c, r), ...json },
    body: JSON.stringify({ title: 'Load test post', body: 'Written by the load generator.' }),
  })),
  comment: op('POST /api/blog/posts/:id/comments', [201], (c, r) => ({
    method: 'POST',
    path: `/api/blog/posts/${pick(c.posts, r)}/comments`,
    headers: { ...bearer(c, r), ...json },
    body: JSON.stringify({ body: 'A comment from the load generator.' }),
  })),
  pay: op('POST /api/payment/payments', [201], (c, r) => {
    const episode = pick(c.paidEpisodes, r);
    return {
      method: 'POST',
      path: '/api/payment/payments',
      // A new key per request: each is a new purchase, never a replay.
      headers: { ...bearer(c, r), ...json, 'idempotency-key': randomUUID() },
      body: JSON.stringify({
        item: { type: 'episode', id: episode.id },
        amountCents: episode.priceCents,
        currency: episode.currency,
        paymentMethod: { token: 'tok_ok' },
      }),
    };
  }),
  listPayments: op('GET /api/payment/payments', [200], (c, r) => ({ method: 'GET', path: '/api/payment/payments', headers: bearer(c, r) })),
  me: op('GET /api/auth/me', [200], (c, r) => ({ method: 'GET', path: '/api/auth/me', headers: bearer(c, r) })),
  activity: op('GET /api/analytics/activity', [200], () => ({ method: 'GET', path: '/api/analytics/activity' })),
  trending: op('GET /api/analytics/trending/webtoons', [200], () => ({ method: 'GET', path: '/api/analytics/trending/webtoons' })),
} satisfies Record<string, Operation>;

const O = OPERATIONS;

/**
 * A portal's day: reading webtoon episodes dominates, then news and the blog;
 * a few writes (articles, posts, comments), payments, and the odd account and
 * analytics page. Weights are per cent of requests.
 */
export const PORTAL_MIX: Mix = {
  name: 'portal',
  entries: [
    { op: O.readEpisode, weight: 40 },
    { op: O.listEpisodes, weight: 6 },
    { op: O.listSeries, weight: 3 },
    { op: O.getSeries, weight: 2 },
    { op: O.rankings, weight: 3 },
    { op: O.listArticles, weight: 10 },
    { op: O.readArticle, weight: 8 },
    { op: O.categories, weight: 2 },
    { op: O.listPosts, weight: 7 },
    { op: O.readPost, weight: 5 },
    { op: O.listComments, weight: 3 },
    { op: O.publishArticle, weight: 2 },
    { op: O.writePost, weight: 1 },
    { op: O.comment, weight: 2 },
    { op: O.pay, weight: 2 },
    { op: O.listPayments, weight: 1 },
    { op: O.me, weight: 1 },
    { op: O.activity, weight: 1 },
    { op: O.trending, weight: 1 },
  ],
};

/** Webtoon takes 90 % of requests: what scaling webtoon alone is for. */
export const WEBTOON_HEAVY_MIX: Mix = {
  name: 'webtoon-heavy',
  entries: [
    { op: O.readEpisode, weight: 75 },
    { op: O.listEpisodes, weight: 8 },
    { op: O.rankings, weight: 4 },
    { op: O.listSeries, weight: 3 },
    { op: O.listArticles, weight: 5 },
    { op: O.listPosts, weight: 5 },
  ],
};

export const MIXES: Readonly<Record<string, Mix>> = { [PORTAL_MIX.name]: PORTAL_MIX, [WEBTOON_HEAVY_MIX.name]: WEBTOON_HEAVY_MIX };

/** The same mix without one service's requests, the others in the same proportions. */
export function withoutService(mix: Mix, service: string): Mix {
  const entries = mix.entries.filter((e) => e.op.service !== service);
  if (entries.length === 0) throw new Error(`mix '${mix.name}' has nothing but ${service} requests`);
  return { name: `${mix.name} without ${service}`, entries };
}

/** Picks operations in the mix's proportions: a binary search over cumulative weights. */
export function picker(mix: Mix, random: Random): () => Operation {
  if (mix.entries.length === 0) throw new Error(`mix '${mix.name}' is empty`);
  const cumulative: number[] = [];
  let total = 0;
  for (const { op: operation, weight } of mix.entries) {
    if (!(Number.isFinite(weight) && weight > 0)) throw new RangeError(`mix '${mix.name}': weight of ${operation.route} must be > 0, got ${weight}`);
    total += weight;
    cumulative.push(total);
  }
  return () => {
    const x = random() * total;
    let lo = 0;
    let hi = cumulative.length - 1;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if ((cumulative[mid] as number) > x) hi = mid;
      else lo = mid + 1;
    }
    return (mix.entries[lo] as MixEntry).op;
  };
}
