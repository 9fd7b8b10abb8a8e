import type { DynamicModule } from '@nestjs/common';
import { createLocalJWKSet } from 'jose';
import type { DomainDefinition } from '@portal/host';
import { keySetVerifier } from '@portal/http';
import { AUTH_ROUTES } from './auth.api.js';
import { AUTH_MIGRATIONS } from './auth.migrations.js';
import { AuthModule } from './auth.module.js';
import { loadSigningKeys } from './signing.keys.js';

export const authDomain: DomainDefinition = {
  name: 'auth',
  migrations: AUTH_MIGRATIONS,
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
