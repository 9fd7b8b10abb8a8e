import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { DomainContext } from '@portal/host';
import { AuthGuard, TOKEN_VERIFIER } from '@portal/http';
import { DemoSeeder } from './demo.seed.js';
import { EntitlementsConsumer } from './entitlements.consumer.js';
import { episodeRoute } from './episode.route.js';
import { TokenCache } from './token.cache.js';
import { ViewsService } from './views.service.js';
import { WebtoonController } from './webtoon.controller.js';
import { WebtoonService } from './webtoon.service.js';
import { WEBTOON_CONTEXT, WEBTOON_OPTIONS } from './webtoon.tokens.js';
import type { WebtoonOptions } from './webtoon.tokens.js';

@Module({})
export class WebtoonModule {
  static register(context: DomainContext, options: WebtoonOptions): DynamicModule {
    const tokens = new TokenCache(context.verifier, options.tokenCacheMs, 4 * 1024 * 1024);
    return {
      module: WebtoonModule,
      controllers: [WebtoonController],
      providers: [
        { provide: WEBTOON_CONTEXT, useValue: context },
        { provide: WEBTOON_OPTIONS, useValue: options },
        { provide: TokenCache, useValue: tokens },
        { provide: TOKEN_VERIFIER, useValue: tokens },
        AuthGuard,
        ViewsService,
        WebtoonService,
        EntitlementsConsumer,
        DemoSeeder,
        episodeRoute,
      ],
    };
  }
}
