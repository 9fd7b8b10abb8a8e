import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { OnApplicationBootstrap, OnApplicationShutdown } from '@nestjs/common';
import type { AnyDomainEvent } from '@portal/contracts';
import { createEvent } from '@portal/contracts';
import type { Queryable } from '@portal/db';
import { appendToOutbox } from '@portal/event-bus';
import type { DomainContext } from '@portal/host';
import { metrics } from '@portal/observability';
import { ViewCounter } from './views.counter.js';
import type { ViewWindow } from './views.counter.js';
import { WEBTOON_CONTEXT, WEBTOON_OPTIONS } from './webtoon.tokens.js';
import type { WebtoonOptions } from './webtoon.tokens.js';

/**
 * Writes the views the read path counts: every interval, and once more at
 * shutdown after the server has stopped taking requests.
 */
@Injectable()
export class ViewsService implements OnApplicationBootstrap, OnApplicationShutdown {
  private readonly counter = new ViewCounter();
  private timer: NodeJS.Timeout | undefined;
  /** Flushes run one after another, never side by side. */
  private queue: Promise<void> = Promise.resolve();
  private flushing = false;

  constructor(
    @Inject(WEBTOON_CONTEXT) private readonly context: DomainContext,
    @Inject(WEBTOON_OPTIONS) private readonly options: WebtoonOptions,
  ) {}

  record(episodeId: string, seriesId: string): void {
    this.counter.record(episodeId, seriesId);
  }

  /** Views counted and not written yet. */
  get pending(): number {
    return this.counter.pending;
  }

  onApplicationBootstrap(): void {
    if (this.options.viewFlushIntervalMs <= 0) return;
    this.timer = setInterval(() => {
      // A slow database must not pile up flushes: skip a tick instead.
      if (!this.flushing) this.flushViews().catch(() => undefined);
    }, this.options.viewFlushIntervalMs);
    this.timer.unref();
  }

  async onApplicationShutdown(): Promise<void> {
    clearInterval(this.timer);
    this.timer = undefined;
    await this.flushViews().catch((error: unknown) =>
      this.context.logger.error('views lost at shutdown: they could not be written', { error, views: this.counter.pending }),
    );
  }

  /**
   * Writes the views counted so far in one transaction, with one
   * episode.viewed event per episode. Rejects if that failed; the views are
   * then kept for the next flush.
   */
  flushViews(): Promise<void> {
    const run = this.queue.then(() => this.flushOnce());
    this.queue = run.catch(() => undefined);
    return run;
  }

  private async flushOnce(): Promise<void> {
    const window = this.counter.take();
    if (window === undefined) return;
    this.flushing = true;
    try {
      await this.context.database.transaction((tx) => writeWindow(tx, window));
    } catch (error) {
      this.counter.restore(window);
      this.context.logger.warn('views not written; kept for the next flush', { error, views: this.counter.pending });
      throw error;
    } finally {
      this.flushing = false;
    }
    // Counted once written: a window that failed is restored and counts with the flush that writes it.
    let views = 0;
    for (const { views: n } of window.counts.values()) views += n;
    metrics().counter('portal_webtoon_episode_views_total').inc({}, views);
    this.context.outbox.nudge();
  }
}

async function writeWindow(tx: Queryable, window: ViewWindow): Promise<void> {
  // Rows are locked in id order, so replicas flushing at the same time wait
  // for each other instead of deadlocking.
  const episodeIds = [...window.counts.keys()].sort();
  const episodeViews: number[] = [];
  const bySeries = new Map<string, number>();
  const events: AnyDomainEvent[] = [];
  const traceId = `views-${randomUUID()}`;
  const windowStart = window.start.toISOString();
  const windowEnd = window.end.toISOString();
  for (const episodeId of episodeIds) {
    const { seriesId, views } = window.counts.get(episodeId) as { seriesId: string; views: number };
    episodeViews.push(views);
    bySeries.set(seriesId, (bySeries.get(seriesId) ?? 0) + views);
    events.push(createEvent('episode.viewed', { episodeId, seriesId, views, windowStart, windowEnd }, { aggregateId: episodeId, traceId }));
  }
  const seriesIds = [...bySeries.keys()].sort();
  const seriesViews = seriesIds.map((id) => bySeries.get(id) as number);

  await tx.query('SELECT 1 FROM episodes WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [episodeIds]);
  await tx.query(
    'UPDATE episodes e SET views = e.views + v.n FROM unnest($1::uuid[], $2::bigint[]) AS v(id, n) WHERE e.id = v.id',
    [episodeIds, episodeViews],
  );
  await tx.query('SELECT 1 FROM series WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE', [seriesIds]);
  await tx.query(
    'UPDATE series s SET views = s.views + v.n FROM unnest($1::uuid[], $2::bigint[]) AS v(id, n) WHERE s.id = v.id',
    [seriesIds, seriesViews],
  );
  await appendToOutbox(tx, events);
}
