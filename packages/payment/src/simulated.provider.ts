import { randomUUID } from 'node:crypto';
import { Injectable } from '@nestjs/common';
import type { Migration, Queryable } from '@portal/db';
import { PAYMENT_TOKENS } from '@portal/contracts/api/payment';

/**
 * The provider's books. In production these live at the payment provider; the
 * simulation keeps them in this service's database so tests can count what
 * was really charged.
 */
export const SIMULATED_PROVIDER_MIGRATION: Migration = {
  id: '002_simulated_provider',
  sql: `
    CREATE TABLE provider_charges (
      id uuid PRIMARY KEY,
      payment_id uuid NOT NULL UNIQUE,
      amount_cents bigint NOT NULL CHECK (amount_cents > 0),
      currency text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
    CREATE TABLE provider_refunds (
      id uuid PRIMARY KEY,
      charge_id uuid NOT NULL UNIQUE REFERENCES provider_charges (id),
      payment_id uuid NOT NULL UNIQUE,
      amount_cents bigint NOT NULL CHECK (amount_cents > 0),
      currency text NOT NULL,
      created_at timestamptz NOT NULL DEFAULT now()
    );
  `,
};

export const APPROVED_TOKEN = PAYMENT_TOKENS.approves;
export const DECLINED_TOKEN = PAYMENT_TOKENS.declines;

export type ChargeOutcome = { readonly approved: true; readonly chargeId: string } | { readonly approved: false; readonly reason: string };

export interface ChargeRequest {
  /** The provider-side idempotency key: one payment is charged at most once. */
  readonly paymentId: string;
  readonly amountCents: number;
  readonly currency: string;
  readonly token: string;
}

/** A payment method token the provider has never issued. */
export class UnknownPaymentMethod extends Error {
  override readonly name = 'UnknownPaymentMethod';
}

/**
 * A stand-in for a card processor: approves `tok_ok`, declines `tok_decline`.
 * It writes through the caller's transaction, so a charge exists exactly when
 * the payment that asked for it commits; a real provider gets the payment id
 * as its idempotency key instead, to the same effect on a retry.
 */
@Injectable()
export class SimulatedProvider {
  async charge(tx: Queryable, request: ChargeRequest): Promise<ChargeOutcome> {
    if (request.token === DECLINED_TOKEN) return { approved: false, reason: 'card_declined' };
    if (request.token !== APPROVED_TOKEN) throw new UnknownPaymentMethod(`no payment method with token '${request.token}'`);
    await tx.query(
      `INSERT INTO provider_charges (id, payment_id, amount_cents, currency) VALUES ($1, $2, $3, $4)
       ON CONFLICT (payment_id) DO NOTHING`,
      [randomUUID(), request.paymentId, request.amountCents, request.currency],
    );
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM provider_charges WHERE payment_id = $1', [request.paymentId]);
    return { approved: true, chargeId: (rows[0] as { id: string }).id };
  }

  /** Refunds the whole charge of a payment; a repeat returns the first refund. */
  async refund(tx: Queryable, paymentId: string): Promise<{ refundId: string }> {
    const { rows: charges } = await tx.query<{ id: string; amount_cents: number; currency: string }>(
      'SELECT id, amount_cents, currency FROM provider_charges WHERE payment_id = $1',
      [paymentId],
    );
    const charge = charges[0];
    if (!charge) throw new Error(`the provider has no charge for payment ${paymentId}`);
    await tx.query(
      `INSERT INTO provider_refunds (id, charge_id, payment_id, amount_cents, currency) VALUES ($1, $2, $3, $4, $5)
       ON CONFLICT (charge_id) DO NOTHING`,
      [randomUUID(), charge.id, paymentId, charge.amount_cents, charge.currency],
    );
    const { rows } = await tx.query<{ id: string }>('SELECT id FROM provider_refunds WHERE charge_id = $1', [charge.id]);
    return { refundId: (rows[0] as { id: string }).id };
  }
}
