import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { EVENT_NAMES } from '@portal/contracts';
import type { AnyDomainEvent } from '@portal/contracts';
import type { Queryable } from '@portal/db';
import { handleOnce } from '@portal/event-bus';
import type { DomainContext } from '@portal/host';
import { ANALYTICS_CONTEXT, ANALYTICS_GROUP } from './analytics.tokens.js';
import { hourBucket, utcDay } from './analytics.time.js';

/** Counts every event there is; it is this domain's only input. */
@Injectable()
export class EventsConsumer implements OnModuleInit {
  constructor(@Inject(ANALYTICS_CONTEXT) private readonly context: DomainContext) {}

  onModuleInit(): void {
    this.context.bus.subscribe({
      group: ANALYTICS_GROUP,
      events: EVENT_NAMES,
      handle: async (event) => {
        await handleOnce(this.context.database, ANALYTICS_GROUP, event, (tx) => applyEvent(tx, event));
      },
    });
  }
}

/** The effect of one event on the counters; handleOnce runs it at most once per event id. */
export async function applyEvent(tx: Queryable, event: AnyDomainEvent): Promise<void> {
  const occurredAt = new Date(event.occurredAt);
  await tx.query(
    `INSERT INTO event_counts (name, day, count, last_at) VALUES ($1, $2::date, 1, $3::timestamptz)
     ON CONFLICT (name, day) DO UPDATE
       SET count = event_counts.count + 1, last_at = GREATEST(event_counts.last_at, excluded.last_at)`,
    [event.name, utcDay(occurredAt), occurredAt.toISOString()],
  );
  switch (event.name) {
    case 'episode.viewed': {
      const { seriesId, episodeId, views, windowEnd } = event.payload;
      await tx.query(
        `INSERT INTO webtoon_views (series_id, episode_id, hour, views) VALUES ($1, $2, $3::timestamptz, $4)
         ON CONFLICT (series_id, episode_id, hour) DO UPDATE SET views = webtoon_views.views + excluded.views`,
        [seriesId, episodeId, hourBucket(new Date(windowEnd)).toISOString(), views],
      );
      break;
    }
    case 'article.published':
      await tx.query(
        `INSERT INTO article_counts (category, count) VALUES ($1, 1)
         ON CONFLICT (category) DO UPDATE SET count = article_counts.count + 1`,
        [event.payload.category],
      );
      break;
    default:
      break;
  }
}
