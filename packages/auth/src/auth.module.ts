import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { DomainContext } from '@portal/host';
import { AuthGuard, TOKEN_VERIFIER } from '@portal/http';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { AUTH_CONTEXT } from './auth.tokens.js';
import { TokenIssuer } from './token.issuer.js';

@Module({})
export class AuthModule {
  static register(context: DomainContext): DynamicModule {
    return {
      module: AuthModule,
      controllers: [AuthController],
      providers: [
        { provide: AUTH_CONTEXT, useValue: context },
        { provide: TOKEN_VERIFIER, useValue: context.verifier },
        AuthGuard,
        TokenIssuer,
        AuthService,
      ],
    };
  }
}
