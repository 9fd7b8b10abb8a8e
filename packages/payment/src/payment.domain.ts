import { z } from 'zod';
import type { DomainDefinition } from '@portal/host';
import { PAYMENT_ROUTES } from './payment.api.js';
import { PAYMENT_MIGRATIONS } from './payment.migrations.js';
import { PaymentModule } from './payment.module.js';

export const paymentDomain: DomainDefinition = {
  name: 'payment',
  migrations: PAYMENT_MIGRATIONS,
  module: (context) => PaymentModule.register(context),
  settings: {
    // A retry with the same key gets the first answer for this long; then the key is forgotten.
    PAYMENT_IDEMPOTENCY_KEY_RETENTION_HOURS: z.coerce.number().min(0.001).max(8_760).default(48),
  },
  prune: async (database, settings) => {
    const hours = settings.PAYMENT_IDEMPOTENCY_KEY_RETENTION_HOURS as number;
    const { rowCount } = await database.query('DELETE FROM idempotency_keys WHERE created_at < now() - make_interval(secs => $1)', [hours * 3_600]);
    return rowCount;
  },
  api: {
    info: {
      title: 'payment',
      version: '1',
      description: 'Payments for episodes, refunds and their ledger, through a simulated provider. Every write takes an Idempotency-Key and charges at most once.',
    },
    routes: PAYMENT_ROUTES,
  },
};
