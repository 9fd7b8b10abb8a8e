/** The DomainContext the host gives this module. */
export const AUTH_CONTEXT = Symbol('AUTH_CONTEXT');

/** How long an access token is valid. There are no refresh tokens: signing in again gives a new one. */
export const TOKEN_TTL_SECONDS = 3600;
