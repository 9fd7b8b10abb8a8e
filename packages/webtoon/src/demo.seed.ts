import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap } from '@nestjs/common';
import type { Database } from '@portal/db';
import type { DomainContext } from '@portal/host';
import { WEBTOON_CONTEXT } from './webtoon.tokens.js';

const CREATOR = '00000000-0000-4000-8000-000000000000';
const GATEWAY = '11111111-1111-4111-8111-111111111111';
const NIGHT_MARKET = '22222222-2222-4222-8222-222222222222';

/** Fixed ids of the demo content, for walkthroughs and end-to-end tests of other services. */
export const DEMO = {
  creatorId: CREATOR,
  /** 'The Gateway Chronicles'. */
  seriesId: GATEWAY,
  /** Episode 1, free. */
  episode1Id: '11111111-1111-4111-8111-000000000001',
  /** Episode 2, free. */
  episode2Id: '11111111-1111-4111-8111-000000000002',
  /** Episode 3, 300 USD cents: the paid one. */
  episode3Id: '11111111-1111-4111-8111-000000000003',
  paidEpisode: { id: '11111111-1111-4111-8111-000000000003', priceCents: 300, currency: 'USD' },
  /** 'Night Market Detectives', a second series for the rankings. */
  secondSeriesId: NIGHT_MARKET,
} as const;

interface DemoEpisode {
  id: string;
  seriesId: string;
  number: number;
  title: string;
  content: string;
  priceCents: number;
}

const SERIES = [
  {
    id: NIGHT_MARKET,
    title: 'Night Market Detectives',
    synopsis: 'Two noodle-stall owners solve the small mysteries of a city that never closes.',
    createdAt: '2025-01-10T09:00:00.000Z',
  },
  {
    id: GATEWAY,
    title: 'The Gateway Chronicles',
    synopsis: 'Every request that enters the city must pass the Gateway. Its keeper has started to notice the strange ones.',
    createdAt: '2025-02-01T09:00:00.000Z',
  },
];

const EPISODES: DemoEpisode[] = [
  {
    id: DEMO.episode1Id,
    seriesId: GATEWAY,
    number: 1,
    title: 'The Keeper',
    content:
      'Mira has kept the Gateway for ten years. Every traveller shows a token, every token is checked, and every door opens to the right hall. Tonight a traveller arrives with a token signed by no one she knows.',
    priceCents: 0,
  },
  {
    id: DEMO.episode2Id,
    seriesId: GATEWAY,
    number: 2,
    title: 'Routes',
    content:
      'The traveller asks for the Hall of News, then the Hall of Payments, then both at once. Mira sends him down the corridor and follows at a distance. The corridor is longer than it used to be.',
    priceCents: 0,
  },
  {
    id: DEMO.episode3Id,
    seriesId: GATEWAY,
    number: 3,
    title: 'The Ledger',
    content:
      'In the Hall of Payments the clerks write every coin twice: once in the ledger, once on the message board. The traveller has found a page where the two disagree, and he wants Mira to read it.',
    priceCents: DEMO.paidEpisode.priceCents,
  },
  {
    id: '22222222-2222-4222-8222-000000000001',
    seriesId: NIGHT_MARKET,
    number: 1,
    title: 'The Missing Ladle',
    content: 'Jun swears he left the ladle on the hook. Hana swears she never touched it. The soup, meanwhile, is getting cold.',
    priceCents: 0,
  },
  {
    id: '22222222-2222-4222-8222-000000000002',
    seriesId: NIGHT_MARKET,
    number: 2,
    title: 'Queue Jumpers',
    content: 'A line forms at midnight for a stall that has no sign. Nobody in it will say what they are waiting for.',
    priceCents: 0,
  },
];

/** Adds the demo content to an empty catalogue; replicas racing here insert it once. */
export async function seedDemoContent(database: Database): Promise<boolean> {
  return database.transaction(async (tx) => {
    const { rows } = await tx.query<{ any: boolean }>('SELECT EXISTS (SELECT 1 FROM series) AS any');
    if (rows[0]?.any) return false;
    for (const s of SERIES) {
      const count = EPISODES.filter((e) => e.seriesId === s.id).length;
      await tx.query(
        `INSERT INTO series (id, title, synopsis, creator_id, episode_count, created_at)
         VALUES ($1, $2, $3, $4, $5, $6) ON CONFLICT (id) DO NOTHING`,
        [s.id, s.title, s.synopsis, CREATOR, count, s.createdAt],
      );
    }
    for (const e of EPISODES) {
      await tx.query(
        `INSERT INTO episodes (id, series_id, number, title, content, price_cents, currency)
         VALUES ($1, $2, $3, $4, $5, $6, 'USD') ON CONFLICT (id) DO NOTHING`,
        [e.id, e.seriesId, e.number, e.title, e.content, e.priceCents],
      );
    }
    return true;
  });
}

@Injectable()
export class DemoSeeder implements OnApplicationBootstrap {
  constructor(@Inject(WEBTOON_CONTEXT) private readonly context: DomainContext) {}

  async onApplicationBootstrap(): Promise<void> {
    if (!this.context.seedDemoData) return;
    if (await seedDemoContent(this.context.database)) this.context.logger.info('demo content added');
  }
}
