import { Body, Controller, Get, Header, HttpCode, Inject, Post, Req, UseGuards } from '@nestjs/common';
import { Login, Register } from '@portal/contracts/api/auth';
import type { AccessToken, JwkSet, Me, Registration } from '@portal/contracts/api/auth';
import { AuthGuard, CurrentUser } from '@portal/http';
import type { AuthenticatedUser } from '@portal/http';
import { AuthService } from './auth.service.js';

interface RequestWithId {
  id: string;
}

interface ClientRequest {
  ip: string;
  headers: Record<string, string | string[] | undefined>;
}

/**
 * The client's address: the last X-Forwarded-For hop when there is one (the
 * gateway appends the address it was called from, whatever the client sent),
 * else the peer's. A client that reaches the service without the gateway can
 * name any address there; the per-account lock does not depend on it.
 */
function clientAddress(request: ClientRequest): string {
  const forwarded = request.headers['x-forwarded-for'];
  const last = (Array.isArray(forwarded) ? forwarded.at(-1) : forwarded)?.split(',').at(-1)?.trim();
  return last || request.ip;
}

@Controller('api/auth')
export class AuthController {
  constructor(@Inject(AuthService) private readonly auth: AuthService) {}

  @Post('register')
  // Accepted, not Created: the answer is the same whether an account was made or the email was taken.
  @HttpCode(202)
  register(@Body({ schema: Register }) body: Register, @Req() request: RequestWithId): Promise<Registration> {
    return this.auth.register(body, request.id);
  }

  @Post('login')
  @HttpCode(200)
  // A token is a credential: no cache may keep the response (RFC 6749 5.1).
  @Header('cache-control', 'no-store')
  login(@Body({ schema: Login }) body: Login, @Req() request: ClientRequest): Promise<AccessToken> {
    return this.auth.login(body, clientAddress(request));
  }

  @Get('.well-known/jwks.json')
  @Header('cache-control', 'public, max-age=300')
  jwks(): Promise<JwkSet> {
    return this.auth.keySet();
  }

  @Get('me')
  @UseGuards(AuthGuard)
  me(@CurrentUser() user: AuthenticatedUser): Promise<Me> {
    return this.auth.me(user);
  }
}
