import { randomUUID } from 'node:crypto';
import { HttpClient } from './http.js';
import type { Request } from './mix.js';

/** What a run's requests are about, found or made in the set-up phase. */
export interface Content {
  readonly users: readonly { readonly id: string; readonly token: string }[];
  readonly series: readonly string[];
  readonly freeEpisodes: readonly string[];
  readonly paidEpisodes: readonly { readonly id: string; readonly priceCents: number; readonly currency: string }[];
  readonly articles: readonly string[];
  readonly categories: readonly string[];
  readonly posts: readonly string[];
}

export interface SetupOptions {
  /** Accounts to register and sign in (requests are spread over them). */
  readonly users?: number;
  readonly log?: (line: string) => void;
}

const PASSWORD = 'load generator password';

async function expectJson<T>(client: HttpClient, req: Request, status: number): Promise<T> {
  let answer: { status: number; body: unknown };
  try {
    answer = await client.json(req);
  } catch (error) {
    throw new Error(`set-up: ${req.method} ${client.baseUrl}${req.path} failed: ${error instanceof Error ? error.message : String(error)}`, { cause: error });
  }
  if (answer.status !== status) {
    throw new Error(`set-up: ${req.method} ${req.path} answered ${answer.status}, expected ${status}: ${JSON.stringify(answer.body).slice(0, 300)}`);
  }
  return answer.body as T;
}

const items = <T>(page: { items: T[] }) => page.items;

/**
 * The set-up phase, through the public API only: registers and signs in
 * users, then finds the series, episodes (free and paid), articles,
 * categories and posts the run's requests point at. The targets' demo data
 * (SEED_DEMO_DATA, on by default) is enough; what is missing is named.
 */
export async function prepare(baseUrl: string, options: SetupOptions = {}): Promise<Content> {
  const client = new HttpClient(baseUrl, { connections: 8 });
  const count = options.users ?? 4;
  if (!Number.isInteger(count) || count < 1) throw new RangeError(`users must be a whole number >= 1, got ${count}`);
  try {
    const users = await Promise.all(
      Array.from({ length: count }, async (_, i) => {
        const email = `loadgen-${randomUUID()}@example.com`;
        const json = { 'content-type': 'application/json' };
        await expectJson(
          client,
          { method: 'POST', path: '/api/auth/register', headers: json, body: JSON.stringify({ email, password: PASSWORD, displayName: `Load ${i + 1}` }) },
          202,
        );
        const login = await expectJson<{ accessToken: string }>(
          client,
          { method: 'POST', path: '/api/auth/login', headers: json, body: JSON.stringify({ email, password: PASSWORD }) },
          200,
        );
        // Registration does not tell the id (its answer is the same for a taken email); the account does.
        const me = await expectJson<{ id: string }>(client, { method: 'GET', path: '/api/auth/me', headers: { authorization: `Bearer ${login.accessToken}` } }, 200);
        return { id: me.id, token: login.accessToken };
      }),
    );
    const get = <T>(path: string) => expectJson<{ items: T[] }>(client, { method: 'GET', path }, 200).then(items);
    const series = (await get<{ id: string }>('/api/webtoon/series?limit=100')).map((s) => s.id);
    const episodes = (
      await Promise.all(series.map((id) => get<{ id: string; free: boolean; priceCents: number; currency: string }>(`/api/webtoon/series/${id}/episodes?limit=100`)))
    ).flat();
    const categories = (await get<{ slug: string }>('/api/news/categories')).map((c) => c.slug);
    const articles = (await get<{ id: string }>('/api/news/articles?limit=100')).map((a) => a.id);
    const posts = (await get<{ id: string }>('/api/blog/posts?limit=100')).map((p) => p.id);
    const content: Content = {
      users,
      series,
      freeEpisodes: episodes.filter((e) => e.free).map((e) => e.id),
      paidEpisodes: episodes.filter((e) => !e.free).map(({ id, priceCents, currency }) => ({ id, priceCents, currency })),
      articles,
      categories,
      posts,
    };
    const missing = (['series', 'freeEpisodes', 'paidEpisodes', 'articles', 'categories', 'posts'] as const).filter((k) => content[k].length === 0);
    if (missing.length > 0) {
      throw new Error(`set-up: ${baseUrl} has no ${missing.join(', ')}; the load generator reads existing content: start the target with SEED_DEMO_DATA=true (the default)`);
    }
    options.log?.(
      `set-up: ${users.length} users, ${series.length} series, ${content.freeEpisodes.length} free and ${content.paidEpisodes.length} paid episodes, ` +
        `${articles.length} articles, ${posts.length} posts`,
    );
    return content;
  } finally {
    await client.close();
  }
}
