import { randomUUID } from 'node:crypto';
import { Inject, Injectable } from '@nestjs/common';
import type { OnModuleInit } from '@nestjs/common';
import { createEvent } from '@portal/contracts';
import type { AccessToken, JwkSet, Login, Me, Register, Registration } from '@portal/contracts/api/auth';
import { isUniqueViolation } from '@portal/db';
import { appendToOutbox } from '@portal/event-bus';
import type { DomainContext } from '@portal/host';
import { tooManyRequests, unauthorized } from '@portal/http';
import type { AuthenticatedUser } from '@portal/http';
import { AUTH_CONTEXT, TOKEN_TTL_SECONDS } from './auth.tokens.js';
import { LoginThrottle } from './login.throttle.js';
import { hashPassword, verifyPassword } from './password.hash.js';
import { TokenIssuer } from './token.issuer.js';

interface UserRow {
  id: string;
  email: string;
  display_name: string;
  created_at: Date;
}

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;
/** The same detail for an unknown email and a wrong password: a login must not tell which accounts exist. */
const BAD_CREDENTIALS = 'email or password is wrong';
/** What every valid registration is told, new email or taken. */
const REGISTERED = 'if this email had no account, it has one now: sign in with this email and password';

@Injectable()
export class AuthService implements OnModuleInit {
  /**
   * Checked against when the email is unknown, so that answer takes as long as
   * a wrong password and timing does not tell which accounts exist either.
   */
  private decoy: Promise<string> | undefined;

  constructor(
    @Inject(AUTH_CONTEXT) private readonly context: DomainContext,
    @Inject(TokenIssuer) private readonly tokens: TokenIssuer,
    @Inject(LoginThrottle) private readonly throttle: LoginThrottle,
  ) {}

  async onModuleInit(): Promise<void> {
    // Made now, so even the first unknown-email login costs one hash, like any other.
    await this.decoyHash();
  }

  /**
   * Creates the account if the email is free. A taken email changes nothing
   * and is answered alike; the hash is made first either way, so both take
   * as long.
   */
  async register(request: Register, traceId: string): Promise<Registration> {
    const id = randomUUID();
    const passwordHash = await hashPassword(request.password);
    try {
      await this.context.database.transaction(async (tx) => {
        await tx.query('INSERT INTO users (id, email, display_name, password_hash) VALUES ($1, $2, $3, $4)', [
          id,
          request.email,
          request.displayName,
          passwordHash,
        ]);
        const event = createEvent(
          'user.registered',
          { userId: id, email: request.email, displayName: request.displayName },
          { aggregateId: id, traceId },
        );
        await appendToOutbox(tx, [event]);
      });
      this.context.outbox.nudge();
    } catch (error) {
      if (!isUniqueViolation(error)) throw error;
    }
    return { email: request.email, message: REGISTERED };
  }

  /** `address` is the client's, for the per-address budget. */
  async login(request: Login, address: string): Promise<AccessToken> {
    const account = request.email.trim().toLowerCase();
    // Checked before the password, so a locked account learns nothing, not even from the right one.
    const wait = this.throttle.retryAfter(account, address);
    if (wait > 0) throw tooManyRequests(`too many failed logins for this account or from this address; retry in ${wait} s`, wait);
    const { rows } = await this.context.database.query<{ id: string; email: string; password_hash: string }>(
      'SELECT id, email, password_hash FROM users WHERE lower(email) = $1',
      [account],
    );
    const user = rows[0];
    const matches = await verifyPassword(request.password, user?.password_hash ?? (await this.decoyHash()));
    if (!user || !matches) {
      // Unknown emails count too: otherwise the lock itself would tell which accounts exist.
      this.throttle.failed(account, address);
      throw unauthorized(BAD_CREDENTIALS);
    }
    this.throttle.succeeded(account);
    return { accessToken: await this.tokens.issue(user), tokenType: 'Bearer', expiresIn: TOKEN_TTL_SECONDS };
  }

  async me(user: AuthenticatedUser): Promise<Me> {
    // Tokens come from this service, but a sub that is not a uuid must not reach a uuid column.
    if (!UUID.test(user.userId)) throw unauthorized('token: the account no longer exists');
    const { rows } = await this.context.database.query<UserRow>('SELECT id, email, display_name FROM users WHERE id = $1', [user.userId]);
    const row = rows[0];
    if (!row) throw unauthorized('token: the account no longer exists');
    return { id: row.id, email: row.email, displayName: row.display_name };
  }

  /** Every public key tokens may be signed with; read each time so a key added by another replica shows at once. */
  async keySet(): Promise<JwkSet> {
    const { rows } = await this.context.database.query<{ public_jwk: JwkSet['keys'][number] }>(
      'SELECT public_jwk FROM signing_keys ORDER BY created_at DESC, kid',
    );
    return { keys: rows.map((r) => r.public_jwk) };
  }

  private decoyHash(): Promise<string> {
    return (this.decoy ??= hashPassword(randomUUID()));
  }
}
