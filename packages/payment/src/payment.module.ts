import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { DomainContext } from '@portal/host';
import { AuthGuard, TOKEN_VERIFIER } from '@portal/http';
import { PAYMENT_CONTEXT } from './payment.context.js';
import { PaymentController } from './payment.controller.js';
import { PaymentService } from './payment.service.js';
import { SimulatedProvider } from './simulated.provider.js';

@Module({})
export class PaymentModule {
  static register(context: DomainContext): DynamicModule {
    return {
      module: PaymentModule,
      controllers: [PaymentController],
      providers: [
        { provide: PAYMENT_CONTEXT, useValue: context },
        { provide: TOKEN_VERIFIER, useValue: context.verifier },
        AuthGuard,
        SimulatedProvider,
        PaymentService,
      ],
    };
  }
}
