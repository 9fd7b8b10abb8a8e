import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { Database } from '@portal/db';
import type { DomainContext } from '@portal/host';
import { insertArticle } from './news.service.js';
import type { Publication } from './news.service.js';
import { NEWS_CONTEXT } from './news.tokens.js';

/** Fixed ids of the demo articles, for walkthroughs and end-to-end tests of other services. */
export const NEWS_DEMO = {
  authorId: '00000000-0000-4000-8000-000000000000',
  articleIds: [
    '33333333-3333-4333-8333-000000000001',
    '33333333-3333-4333-8333-000000000002',
    '33333333-3333-4333-8333-000000000003',
  ],
} as const;

const ARTICLES: readonly Omit<Publication, 'traceId' | 'authorId'>[] = [
  {
    id: NEWS_DEMO.articleIds[0],
    category: 'world',
    title: 'Portal opens its doors',
    body: 'News, blogs and webtoons now live under one roof. Readers can sign in once and find all three.',
    publishedAt: new Date('2025-03-01T08:00:00.000Z'),
  },
  {
    id: NEWS_DEMO.articleIds[1],
    category: 'tech',
    title: 'One codebase, two shapes',
    body: 'The same domain modules run as a single process or as separate services talking through events.',
    publishedAt: new Date('2025-03-02T08:00:00.000Z'),
  },
  {
    id: NEWS_DEMO.articleIds[2],
    category: 'culture',
    title: 'Night markets return',
    body: 'Stalls reopen across the city this weekend, with longer hours and a few new faces among the cooks.',
    publishedAt: new Date('2025-03-03T08:00:00.000Z'),
  },
];

/** Any 64-bit number: replicas that start together seed one at a time. */
const SEED_LOCK = 7210501;

/** Publishes the demo articles into an empty news service; returns whether it did. */
export async function seedDemoArticles(database: Database): Promise<boolean> {
  return database.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [SEED_LOCK]);
    const { rows } = await tx.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM articles) AS any');
    if (rows[0]?.any) return false;
    for (const article of ARTICLES) {
      await insertArticle(tx, { ...article, authorId: NEWS_DEMO.authorId, traceId: 'demo-seed' });
    }
    return true;
  });
}

@Injectable()
export class DemoSeeder implements OnApplicationBootstrap {
  constructor(@Inject(NEWS_CONTEXT) private readonly context: DomainContext) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.context.seedDemoData) return;
    if (await seedDemoArticles(this.context.database)) {
      this.context.logger.info('demo articles added');
      this.context.outbox.nudge();
    }
  }
}
