import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { DomainContext } from '@portal/host';
import { AuthGuard, TOKEN_VERIFIER } from '@portal/http';
import { BlogController } from './blog.controller.js';
import { BlogService } from './blog.service.js';
import { BLOG_CONTEXT } from './blog.tokens.js';
import { DemoSeeder } from './demo.seed.js';

@Module({})
export class BlogModule {
  static register(context: DomainContext): DynamicModule {
    return {
      module: BlogModule,
      controllers: [BlogController],
      providers: [
        { provide: BLOG_CONTEXT, useValue: context },
        { provide: TOKEN_VERIFIER, useValue: context.verifier },
        AuthGuard,
        BlogService,
        DemoSeeder,
      ],
    };
  }
}
