import { Problem } from '@portal/contracts/api';
import { AccessToken, JwkSet, Login, Me, Register, Registration } from '@portal/contracts/api/auth';
import type { RouteDoc } from '@portal/http';

export const AUTH_ROUTES: readonly RouteDoc[] = [
  {
    method: 'post',
    path: '/api/auth/register',
    summary:
      'Create an account if the email (kept lower-case) is free in every spelling; a taken email changes nothing and gets the same answer, ' +
      'so registering does not tell which accounts exist. Then sign in with POST /api/auth/login',
    body: Register,
    responses: { 202: { description: 'the same answer for a free and a taken email', schema: Registration } },
  },
  {
    method: 'post',
    path: '/api/auth/login',
    summary: 'Exchange email and password for a bearer token (EdDSA JWT, valid one hour)',
    body: Login,
    responses: {
      200: { description: 'an access token', schema: AccessToken },
      401: { description: 'the email or the password is wrong (the answer does not say which)', schema: Problem },
      429: { description: 'too many failed logins for this account or from this address; Retry-After says when to try again', schema: Problem },
    },
  },
  {
    method: 'get',
    path: '/api/auth/.well-known/jwks.json',
    summary: 'The public keys tokens are signed with (RFC 7517), for any service to verify them',
    responses: { 200: { description: 'the key set', schema: JwkSet } },
  },
  {
    method: 'get',
    path: '/api/auth/me',
    summary: 'The account the bearer token speaks for',
    auth: true,
    responses: { 200: { description: 'the signed-in user', schema: Me } },
  },
];
