import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import { createEvent } from '@portal/contracts';
import type { CreatePayment, ListPaymentsQuery, Payment, PaymentPage, PaymentStatus } from '@portal/contracts/api/payment';
import type { Queryable } from '@portal/db';
import { appendToOutbox } from '@portal/event-bus';
import type { DomainContext } from '@portal/host';
import { badRequest, conflict, notFound, pageOf, timeIdCursor } from '@portal/http';
import { metrics } from '@portal/observability';
import { requestHash } from './idempotency.hash.js';
import { claimKey, storeResponse } from './idempotency.store.js';
import type { StoredResponse } from './idempotency.store.js';
import { PAYMENT_CONTEXT } from './payment.context.js';
import { SimulatedProvider, UnknownPaymentMethod } from './simulated.provider.js';

export interface IdempotentResult {
  readonly response: StoredResponse;
  /** True when this repeats the answer first given for the key. */
  readonly replayed: boolean;
}

interface PaymentRow {
  id: string;
  user_id: string;
  item_type: 'episode';
  item_id: string;
  amount_cents: number;
  currency: string;
  status: PaymentStatus;
  failure_reason: string | null;
  created_at: Date;
  refunded_at: Date | null;
}

const COLUMNS = 'id, user_id, item_type, item_id, amount_cents, currency, status, failure_reason, created_at, refunded_at';

function toPayment(row: PaymentRow): Payment {
  return {
    id: row.id,
    userId: row.user_id,
    item: { type: row.item_type, id: row.item_id },
    amountCents: row.amount_cents,
    currency: row.currency,
    status: row.status,
    ...(row.failure_reason !== null ? { failureReason: row.failure_reason } : {}),
    createdAt: row.created_at.toISOString(),
    ...(row.refunded_at !== null ? { refundedAt: row.refunded_at.toISOString() } : {}),
  };
}

@Injectable()
export class PaymentService {
  constructor(
    @Inject(PAYMENT_CONTEXT) private readonly context: DomainContext,
    private readonly provider: SimulatedProvider,
  ) {}

  /**
   * Charges once per (payer, key): the key claim, the provider's charge, the
   * payment, its ledger entry, its event and the stored answer all commit in
   * one transaction, or none of them does.
   */
  async pay(userId: string, key: string, request: CreatePayment, traceId: string): Promise<IdempotentResult> {
    const hash = requestHash({ operation: 'POST /api/payment/payments', body: request });
    let committed: PaymentStatus | undefined;
    const result = await this.context.database.transaction(async (tx): Promise<IdempotentResult> => {
      const claim = await claimKey(tx, userId, key, hash);
      if (!claim.claimed) return { response: claim.response, replayed: true };

      const paymentId = randomUUID();
      const outcome = await this.provider
        .charge(tx, { paymentId, amountCents: request.amountCents, currency: request.currency, token: request.paymentMethod.token })
        .catch((error: unknown) => {
          if (error instanceof UnknownPaymentMethod) throw badRequest([{ field: 'body.paymentMethod.token', message: error.message }]);
          throw error;
        });
      const row = await this.insertPayment(tx, {
        id: paymentId,
        user_id: userId,
        item_type: request.item.type,
        item_id: request.item.id,
        amount_cents: request.amountCents,
        currency: request.currency,
        status: outcome.approved ? 'completed' : 'failed',
        failure_reason: outcome.approved ? null : outcome.reason,
        // Milliseconds, as in the JSON and the cursors, so pagination compares like with like.
        created_at: new Date(),
        refunded_at: null,
      });
      const payload = { paymentId, userId, item: request.item, amountCents: request.amountCents, currency: request.currency };
      const context = { aggregateId: paymentId, traceId };
      if (outcome.approved) {
        await this.book(tx, paymentId, 'charge', request.amountCents, request.currency);
        await appendToOutbox(tx, [createEvent('payment.completed', payload, context)]);
      } else {
        await appendToOutbox(tx, [createEvent('payment.failed', { ...payload, reason: outcome.reason }, context)]);
      }
      const response = { status: 201, body: JSON.stringify(toPayment(row)) };
      await storeResponse(tx, userId, key, response);
      committed = row.status;
      return { response, replayed: false };
    });
    // After the commit, and never for a replay: each payment counts once, with the outcome it kept.
    if (committed) countPayment(committed);
    if (!result.replayed) this.context.outbox.nudge();
    return result;
  }

  /** Refunds a completed payment of the payer, in full, once. */
  async refund(userId: string, key: string, paymentId: string, traceId: string): Promise<IdempotentResult> {
    const hash = requestHash({ operation: 'POST /api/payment/payments/:id/refund', paymentId });
    const result = await this.context.database.transaction(async (tx): Promise<IdempotentResult> => {
      const claim = await claimKey(tx, userId, key, hash);
      if (!claim.claimed) return { response: claim.response, replayed: true };

      // The row lock makes concurrent refunds of one payment (with different keys) take turns.
      const { rows } = await tx.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments WHERE id = $1 AND user_id = $2 FOR UPDATE`, [
        paymentId,
        userId,
      ]);
      const payment = rows[0];
      // Someone else's payment is "not found" too: its existence is not the caller's business.
      if (!payment) throw notFound('payment', paymentId);
      if (payment.status !== 'completed') {
        throw conflict(`payment ${paymentId} is ${payment.status}; only a completed payment can be refunded`);
      }
      await this.provider.refund(tx, paymentId);
      const { rows: updated } = await tx.query<PaymentRow>(
        `UPDATE payments SET status = 'refunded', refunded_at = $2 WHERE id = $1 RETURNING ${COLUMNS}`,
        [paymentId, new Date()],
      );
      const refunded = updated[0] as PaymentRow;
      await this.book(tx, paymentId, 'refund', -refunded.amount_cents, refunded.currency);
      const item = { type: refunded.item_type, id: refunded.item_id };
      await appendToOutbox(tx, [
        createEvent(
          'payment.refunded',
          { paymentId, userId, item, amountCents: refunded.amount_cents, currency: refunded.currency },
          { aggregateId: paymentId, traceId },
        ),
      ]);
      const response = { status: 200, body: JSON.stringify(toPayment(refunded)) };
      await storeResponse(tx, userId, key, response);
      return { response, replayed: false };
    });
    if (!result.replayed) countPayment('refunded');
    if (!result.replayed) this.context.outbox.nudge();
    return result;
  }

  async get(userId: string, id: string): Promise<Payment> {
    const { rows } = await this.context.database.query<PaymentRow>(`SELECT ${COLUMNS} FROM payments WHERE id = $1 AND user_id = $2`, [
      id,
      userId,
    ]);
    const row = rows[0];
    if (!row) throw notFound('payment', id);
    return toPayment(row);
  }

  /** The payer's payments, newest first, by keyset on (created_at, id). */
  async list(userId: string, query: ListPaymentsQuery): Promise<PaymentPage> {
    const params: unknown[] = [userId];
    let after = '';
    if (query.cursor !== undefined) {
      params.push(...timeIdCursor(query.cursor));
      after = 'AND (created_at, id) < ($2::timestamptz, $3::uuid)';
    }
    params.push(query.limit + 1);
    const { rows } = await this.context.database.query<PaymentRow>(
      `SELECT ${COLUMNS} FROM payments WHERE user_id = $1 ${after} ORDER BY created_at DESC, id DESC LIMIT $${params.length}`,
      params,
    );
    return pageOf(rows, query.limit, toPayment, (r) => [r.created_at, r.id]);
  }

  private async insertPayment(tx: Queryable, row: PaymentRow): Promise<PaymentRow> {
    const { rows } = await tx.query<PaymentRow>(
      `INSERT INTO payments (${COLUMNS}) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10) RETURNING ${COLUMNS}`,
      [row.id, row.user_id, row.item_type, row.item_id, row.amount_cents, row.currency, row.status, row.failure_reason, row.created_at, row.refunded_at],
    );
    return rows[0] as PaymentRow;
  }

  private async book(tx: Queryable, paymentId: string, kind: 'charge' | 'refund', amountCents: number, currency: string): Promise<void> {
    await tx.query('INSERT INTO ledger_entries (id, payment_id, kind, amount_cents, currency) VALUES ($1, $2, $3, $4, $5)', [
      randomUUID(),
      paymentId,
      kind,
      amountCents,
      currency,
    ]);
  }
}

/** portal_payments_total: completed, failed (declined) or refunded. */
function countPayment(outcome: PaymentStatus): void {
  metrics().counter('portal_payments_total').inc({ outcome });
}
