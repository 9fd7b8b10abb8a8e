import type { DynamicModule } from '@nestjs/common';
import type { DomainDefinition } from '@portal/host';
import { ANALYTICS_ROUTES } from './analytics.api.js';
import { ANALYTICS_MIGRATIONS } from './analytics.migrations.js';
import { AnalyticsModule } from './analytics.module.js';

export const analyticsDomain: DomainDefinition = {
  name: 'analytics',
  migrations: ANALYTICS_MIGRATIONS,
  module: (context): DynamicModule => AnalyticsModule.register(context),
  api: {
    info: {
      title: 'Analytics',
      version: '1',
      description:
        'Counters and trends built only from the events other services publish. They are updated as events arrive, ' +
        'so they trail the services by the delivery delay; a redelivered event is counted once.',
    },
    routes: ANALYTICS_ROUTES,
  },
};
