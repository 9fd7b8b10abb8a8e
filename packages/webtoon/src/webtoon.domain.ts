import type { DynamicModule } from '@nestjs/common';
import { z } from 'zod';
import type { DomainDefinition } from '@portal/host';
import { WEBTOON_ROUTES } from './webtoon.api.js';
import { WEBTOON_MIGRATIONS } from './webtoon.migrations.js';
import { WebtoonModule } from './webtoon.module.js';
import { CACHES_OFF, DEFAULT_OPTIONS } from './webtoon.tokens.js';
import type { WebtoonOptions } from './webtoon.tokens.js';

/** What the webtoon module reads from the environment, in the service and the monolith alike. */
const WEBTOON_SETTINGS = {
  /**
   * `off` turns the read path's caches off (episodes, entitlements found,
   * tokens verified): every read then queries the database. For measuring
   * what the caches buy (`npm run bench:webtoon`) and for ruling them out
   * when something looks stale; `on` by default.
   */
  WEBTOON_CACHE: z.enum(['on', 'off']).default('on'),
};

/** The webtoon domain with other settings than the defaults (tests: a view flush they trigger themselves). */
export function createWebtoonDomain(options: Partial<WebtoonOptions> = {}): DomainDefinition {
  const settings: WebtoonOptions = { ...DEFAULT_OPTIONS, ...options };
  return {
    name: 'webtoon',
    migrations: WEBTOON_MIGRATIONS,
    settings: WEBTOON_SETTINGS,
    module: (context): DynamicModule =>
      WebtoonModule.register(context, context.settings.WEBTOON_CACHE === 'off' ? { ...settings, ...CACHES_OFF } : settings),
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
