import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { DomainContext } from '@portal/host';
import { AuthGuard, TOKEN_VERIFIER } from '@portal/http';
import { DemoSeeder } from './demo.seed.js';
import { NewsController } from './news.controller.js';
import { NewsService } from './news.service.js';
import { NEWS_CONTEXT } from './news.tokens.js';

@Module({})
export class NewsModule {
  static register(context: DomainContext): DynamicModule {
    return {
      module: NewsModule,
      controllers: [NewsController],
      providers: [
        { provide: NEWS_CONTEXT, useValue: context },
        { provide: TOKEN_VERIFIER, useValue: context.verifier },
        AuthGuard,
        NewsService,
        DemoSeeder,
      ],
    };
  }
}
