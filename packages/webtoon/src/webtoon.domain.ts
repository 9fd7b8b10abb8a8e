import type { DynamicModule } from '@nestjs/common';
import type { DomainDefinition } from '@portal/host';
import { WEBTOON_ROUTES } from './webtoon.api.js';
import { WEBTOON_MIGRATIONS } from './webtoon.migrations.js';
import { WebtoonModule } from './webtoon.module.js';
import { DEFAULT_OPTIONS } from './webtoon.tokens.js';
import type { WebtoonOptions } from './webtoon.tokens.js';

/** The webtoon domain with other settings than the defaults (tests: a view flush they trigger themselves). */
export function createWebtoonDomain(options: Partial<WebtoonOptions> = {}): DomainDefinition {
  const settings: WebtoonOptions = { ...DEFAULT_OPTIONS, ...options };
  return {
    name: 'webtoon',
    migrations: WEBTOON_MIGRATIONS,
    module: (context): DynamicModule => WebtoonModule.register(context, settings),
    api: {
      info: {
        title: 'Webtoon',
        version: '1',
        description:
          'Series, episodes, views and rankings. Paid episodes unlock when a payment.completed event covers their price. ' +
          'Views are counted in memory and written about once a second, so counts and rankings trail reads slightly.',
      },
      routes: WEBTOON_ROUTES,
    },
  };
}

export const webtoonDomain: DomainDefinition = createWebtoonDomain();
