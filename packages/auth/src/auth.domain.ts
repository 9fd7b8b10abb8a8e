import type { DynamicModule } from '@nestjs/common';
import { createLocalJWKSet, errors } from 'jose';
import type { JWTVerifyGetKey } from 'jose';
import { z } from 'zod';
import type { Database } from '@portal/db';
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
  /** How old the signing key gets before tokens are signed with a new one; 30 days by default. */
  AUTH_SIGNING_KEY_MAX_AGE_SECONDS: z.coerce.number().int().min(1).max(31_536_000).default(2_592_000),
};

/** At most one reload of the keys per this many ms, however many tokens name a key it does not know. */
const RELOAD_COOLDOWN_MS = 5_000;

/**
 * The keys straight from this database, read again when a token names a key
 * not among them: a rotation (here or by another replica) made a new one.
 */
async function localKeys(database: Database): Promise<JWTVerifyGetKey> {
  let keySet = createLocalJWKSet({ keys: (await loadSigningKeys(database)).map((k) => k.publicJwk) });
  // Only reloads count: the first unknown key is looked up even right after start.
  let loadedAt = 0;
  return async (header, token) => {
    try {
      return await keySet(header, token);
    } catch (error) {
      if (!(error instanceof errors.JWKSNoMatchingKey) || Date.now() - loadedAt < RELOAD_COOLDOWN_MS) throw error;
      loadedAt = Date.now();
      keySet = createLocalJWKSet({ keys: (await loadSigningKeys(database)).map((k) => k.publicJwk) });
      return keySet(header, token);
    }
  };
}

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
  localVerifier: async (database) => keySetVerifier(await localKeys(database)),
};
