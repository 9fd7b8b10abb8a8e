import type { DomainDefinition } from '@portal/host';
import { PAYMENT_ROUTES } from './payment.api.js';
import { PAYMENT_MIGRATIONS } from './payment.migrations.js';
import { PaymentModule } from './payment.module.js';

export const paymentDomain: DomainDefinition = {
  name: 'payment',
  migrations: PAYMENT_MIGRATIONS,
  module: (context) => PaymentModule.register(context),
  api: {
    info: {
      title: 'payment',
      version: '1',
      description: 'Payments for episodes, refunds and their ledger, through a simulated provider. Every write takes an Idempotency-Key and charges at most once.',
    },
    routes: PAYMENT_ROUTES,
  },
};
