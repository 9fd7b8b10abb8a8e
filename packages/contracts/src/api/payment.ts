// Request and response schemas of the payment API.
import { z } from 'zod';
import { IdParam, TimeIdPageQuery, page } from './common.js';

/** What is paid for: today only episodes. */
export const ItemRef = z.object({
  type: z.literal('episode', { error: "must be 'episode'" }),
  id: z.uuid({ error: 'must be a UUID' }).toLowerCase(),
});
export type ItemRef = z.infer<typeof ItemRef>;

export const MAX_AMOUNT_CENTS = 1_000_000;

/**
 * The payment method tokens the provider has issued. The provider here is a
 * simulation with two cards, so the API documents and validates exactly those;
 * a real provider's tokens would be a string the provider checks.
 */
export const PAYMENT_TOKENS = { approves: 'tok_ok', declines: 'tok_decline' } as const;

export const CreatePayment = z.object({
  item: ItemRef,
  amountCents: z
    .int({ error: 'must be a whole number of cents' })
    .positive({ error: 'must be greater than 0' })
    .max(MAX_AMOUNT_CENTS, { error: `must be at most ${MAX_AMOUNT_CENTS}` }),
  currency: z.string({ error: 'must be a string' }).regex(/^[A-Z]{3}$/, { error: 'must be 3 upper-case letters (ISO 4217)' }),
  paymentMethod: z.object({
    token: z.enum([PAYMENT_TOKENS.approves, PAYMENT_TOKENS.declines], {
      error: (issue) =>
        typeof issue.input === 'string'
          ? `no payment method with token '${issue.input.slice(0, 64)}'; the simulated provider knows ${PAYMENT_TOKENS.approves} and ${PAYMENT_TOKENS.declines}`
          : 'must be a string',
    }),
  }),
});
export type CreatePayment = z.infer<typeof CreatePayment>;

export const PaymentStatus = z.enum(['completed', 'failed', 'refunded']);
export type PaymentStatus = z.infer<typeof PaymentStatus>;

export const Payment = z.object({
  id: z.uuid(),
  /** The payer. */
  userId: z.uuid(),
  item: ItemRef,
  amountCents: z.int().positive(),
  currency: z.string(),
  status: PaymentStatus,
  /** Why the provider declined; only on failed payments. */
  failureReason: z.string().optional(),
  createdAt: z.iso.datetime(),
  /** Only on refunded payments. */
  refundedAt: z.iso.datetime().optional(),
});
export type Payment = z.infer<typeof Payment>;

export const PaymentPage = page(Payment);
export type PaymentPage = z.infer<typeof PaymentPage>;

export const ListPaymentsQuery = TimeIdPageQuery;
export type ListPaymentsQuery = z.infer<typeof ListPaymentsQuery>;

export const PaymentIdParams = z.object({ id: IdParam });

/**
 * Every request that moves money carries a key the client makes up per
 * intended operation; a retry with the same key gets the first answer.
 */
export const IdempotencyKeyHeader = z.object({
  'idempotency-key': z
    .string({ error: 'required: send a key unique to this operation (e.g. a UUID)' })
    .regex(/^[\x21-\x7E]{1,200}$/, { error: 'must be 1 to 200 visible ASCII characters' }),
});

/** Response header on an answer that repeats the one first given for the key. */
export const IDEMPOTENT_REPLAYED_HEADER = 'idempotent-replayed';
