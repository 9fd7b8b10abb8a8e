import { IdempotencyKeyHeader, ListPaymentsQuery, CreatePayment, Payment, PaymentIdParams, PaymentPage } from '@portal/contracts/api/payment';
import type { RouteDoc } from '@portal/http';

const replayNote = 'A repeat with the same Idempotency-Key and the same request gets the first answer again, with `Idempotent-Replayed: true`.';

export const PAYMENT_ROUTES: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/api/payment/payments',
    summary: `Pay for an item with a payment method token (simulated: tok_ok approves, tok_decline declines). ${replayNote}`,
    auth: true,
    headers: IdempotencyKeyHeader,
    body: CreatePayment,
    responses: {
      201: { description: 'the payment, completed or failed (see failureReason)', schema: Payment },
      413: { description: 'body too large' },
      422: { description: 'the Idempotency-Key was already used for a different request' },
    },
  },
  {
    method: 'get',
    path: '/api/payment/payments',
    summary: "The caller's payments, newest first",
    auth: true,
    query: ListPaymentsQuery,
    responses: { 200: { description: 'a page of payments', schema: PaymentPage } },
  },
  {
    method: 'get',
    path: '/api/payment/payments/{id}',
    summary: 'One of the caller’s payments',
    auth: true,
    params: PaymentIdParams,
    responses: { 200: { description: 'the payment', schema: Payment } },
  },
  {
    method: 'post',
    path: '/api/payment/payments/{id}/refund',
    summary: `Refund a completed payment in full. ${replayNote}`,
    auth: true,
    params: PaymentIdParams,
    headers: IdempotencyKeyHeader,
    responses: {
      200: { description: 'the refunded payment', schema: Payment },
      404: { description: 'no such payment of the caller' },
      409: { description: 'the payment is not completed, or already refunded' },
      422: { description: 'the Idempotency-Key was already used for a different request' },
    },
  },
];
