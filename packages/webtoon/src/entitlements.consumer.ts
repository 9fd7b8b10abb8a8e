import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import type { AnyDomainEvent, EventPayload } from '@portal/contracts';
import type { Queryable } from '@portal/db';
import { handleOnce } from '@portal/event-bus';
import type { DomainContext } from '@portal/host';
import { WebtoonService } from './webtoon.service.js';
import { WEBTOON_CONTEXT } from './webtoon.tokens.js';

export const CONSUMER_GROUP = 'webtoon';

/**
 * Turns payments into entitlements. The payment service does not know what
 * an episode costs; whether a payment covers it is decided here.
 */
@Injectable()
export class EntitlementsConsumer implements OnModuleInit {
  constructor(
    @Inject(WEBTOON_CONTEXT) private readonly context: DomainContext,
    private readonly webtoon: WebtoonService,
  ) {}

  onModuleInit(): void {
    this.context.bus.subscribe({
      group: CONSUMER_GROUP,
      events: ['payment.completed', 'payment.refunded'],
      handle: (event) => this.handle(event),
    });
  }

  async handle(event: AnyDomainEvent): Promise<void> {
    if (event.name === 'payment.completed') {
      const payment = event.payload;
      await handleOnce(this.context.database, CONSUMER_GROUP, event, (tx) => this.grant(tx, payment, event.id));
    } else if (event.name === 'payment.refunded') {
      const payment = event.payload;
      await handleOnce(this.context.database, CONSUMER_GROUP, event, (tx) => this.revoke(tx, payment));
      this.webtoon.forgetGrant(payment.userId, payment.item.id);
    }
  }

  private async grant(tx: Queryable, payment: EventPayload<'payment.completed'>, eventId: string): Promise<void> {
    const { rows } = await tx.query<{ price_cents: number; currency: string }>('SELECT price_cents, currency FROM episodes WHERE id = $1', [
      payment.item.id,
    ]);
    const episode = rows[0];
    const refused = (reason: string) =>
      this.context.logger.warn(`payment grants no entitlement: ${reason}`, {
        eventId,
        paymentId: payment.paymentId,
        userId: payment.userId,
        episodeId: payment.item.id,
        amountCents: payment.amountCents,
        currency: payment.currency,
      });
    if (episode === undefined) return refused('no such episode');
    if (payment.currency !== episode.currency) return refused(`paid in ${payment.currency}, the episode is priced in ${episode.currency}`);
    if (payment.amountCents < episode.price_cents) return refused(`paid ${payment.amountCents}, the episode costs ${episode.price_cents}`);
    // A second payment for an episode already unlocked keeps the first grant.
    await tx.query(
      'INSERT INTO entitlements (user_id, episode_id, payment_id) VALUES ($1, $2, $3) ON CONFLICT (user_id, episode_id) DO NOTHING',
      [payment.userId, payment.item.id, payment.paymentId],
    );
  }

  private async revoke(tx: Queryable, payment: EventPayload<'payment.refunded'>): Promise<void> {
    const { rowCount } = await tx.query('DELETE FROM entitlements WHERE user_id = $1 AND episode_id = $2 AND payment_id = $3', [
      payment.userId,
      payment.item.id,
      payment.paymentId,
    ]);
    if (rowCount === 0) {
      this.context.logger.info('refund revokes nothing: no entitlement was granted by this payment', {
        paymentId: payment.paymentId,
        userId: payment.userId,
        episodeId: payment.item.id,
      });
    }
  }
}
