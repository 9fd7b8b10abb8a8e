import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { DomainContext } from '@portal/host';
import { AnalyticsController } from './analytics.controller.js';
import { AnalyticsService } from './analytics.service.js';
import { ANALYTICS_CONTEXT } from './analytics.tokens.js';
import { EventsConsumer } from './events.consumer.js';

@Module({})
export class AnalyticsModule {
  static register(context: DomainContext): DynamicModule {
    return {
      module: AnalyticsModule,
      controllers: [AnalyticsController],
      providers: [{ provide: ANALYTICS_CONTEXT, useValue: context }, AnalyticsService, EventsConsumer],
    };
  }
}
