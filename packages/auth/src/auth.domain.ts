import type { DynamicModule } from '@nestjs/common';
import { createLocalJWKSet } from 'jose';
import { z } from 'zod';
import type { DomainDefinition } from '@portal/host';
import { keySetVerifier } from '@portal/http';
import { AUTH_ROUTES } from './auth.api.js';
import { AUTH_MIGRATIONS } from './auth.migrations.js';
import { AuthModule } from './auth.module.js';
import { loadSigningKeys } from './signing.keys.js';

/** What the auth module reads from the environment: how failed logins are throttled (see LoginThrottle). */
export const AUTH_SETTINGS = {
  /** Failed logins for one account within the window that lock it. */
  AUTH_LOGIN_MAX_FAILURES: z.coerce.number().int().min(1).max(1_000).default(5),
  /** Failed logins from one client address within the window that lock the address, whatever the accounts. */
  AUTH_LOGIN_ADDRESS_MAX_FAILURES: z.coerce.number().int().min(1).max(100_000).default(100),
  AUTH_LOGIN_WINDOW_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
  /** How long a locked account or address gets 429 for every login, the right password included. */
  AUTH_LOGIN_LOCK_SECONDS: z.coerce.number().int().min(1).max(86_400).default(900),
};

export const authDomain: DomainDefinition = {
  name: 'auth',
  migrations: AUTH_MIGRATIONS,
  settings: AUTH_SETTINGS,
  module: (context): DynamicModule => AuthModule.register(context),
  api: {
    info: {
      title: 'Auth',
      version: '1',
      description:
        'Accounts and access tokens. Tokens are EdDSA-signed JWTs (iss portal-auth, aud portal, one hour); ' +
        'every service verifies them against the key set this service publishes.',
    },
    routes: AUTH_ROUTES,
  },
  // Domains in the same process verify with the keys straight from this database, no HTTP round trip.
  localVerifier: async (database) => {
    const keys = await loadSigningKeys(database);
    return keySetVerifier(createLocalJWKSet({ keys: keys.map((k) => k.publicJwk) }));
  },
};
