import { Module } from '@nestjs/common';
import type { DynamicModule } from '@nestjs/common';
import type { DomainContext } from '@portal/host';
import { AuthGuard, TOKEN_VERIFIER } from '@portal/http';
import { AuthController } from './auth.controller.js';
import { AuthService } from './auth.service.js';
import { AUTH_CONTEXT } from './auth.tokens.js';
import { LoginThrottle } from './login.throttle.js';
import { TokenIssuer } from './token.issuer.js';

@Module({})
export class AuthModule {
  static register(context: DomainContext): DynamicModule {
    const settings = context.settings as { [K in 'AUTH_LOGIN_MAX_FAILURES' | 'AUTH_LOGIN_ADDRESS_MAX_FAILURES' | 'AUTH_LOGIN_WINDOW_SECONDS' | 'AUTH_LOGIN_LOCK_SECONDS']: number };
    const throttle = new LoginThrottle({
      accountFailures: settings.AUTH_LOGIN_MAX_FAILURES,
      addressFailures: settings.AUTH_LOGIN_ADDRESS_MAX_FAILURES,
      windowMs: settings.AUTH_LOGIN_WINDOW_SECONDS * 1000,
      lockMs: settings.AUTH_LOGIN_LOCK_SECONDS * 1000,
    });
    return {
      module: AuthModule,
      controllers: [AuthController],
      providers: [
        { provide: AUTH_CONTEXT, useValue: context },
        { provide: TOKEN_VERIFIER, useValue: context.verifier },
        { provide: LoginThrottle, useValue: throttle },
        AuthGuard,
        TokenIssuer,
        AuthService,
      ],
    };
  }
}
