// Request and response schemas of the auth API.
import { z } from 'zod';
import { title } from './common.js';

/**
 * Emails are kept lower-case, so one address is one account whatever its
 * spelling. Checked with zod's email pattern as a plain pattern: the API
 * documents then carry exactly the check that runs, where `format: email`
 * would let each client apply its own idea of an address.
 */
const Email = z.string().regex(z.regexes.email, { error: 'must be an email address' }).max(254).toLowerCase();

export const Register = z.object({
  email: Email,
  password: z.string().min(8, { error: 'must be at least 8 characters' }).max(200, { error: 'must be at most 200 characters' }),
  displayName: title(80),
});
export type Register = z.infer<typeof Register>;

/**
 * The answer to every registration that passes validation, whether the email
 * was free (the account now exists) or taken (nothing changed): the same
 * status and body, so registering does not tell which accounts exist.
 */
export const Registration = z.object({
  /** The email as kept: lower-case. */
  email: z.string(),
  message: z.string(),
});
export type Registration = z.infer<typeof Registration>;

/** Only shape is checked here: a wrong email and a wrong password get the same 401. */
export const Login = z.object({
  email: z.string().min(1).max(254),
  password: z.string().min(1).max(200),
});
export type Login = z.infer<typeof Login>;

export const User = z.object({
  id: z.uuid(),
  email: z.string(),
  displayName: z.string(),
  createdAt: z.iso.datetime(),
});
export type User = z.infer<typeof User>;

/** The signed-in user, as `GET /api/auth/me` shows them. */
export const Me = User.omit({ createdAt: true });
export type Me = z.infer<typeof Me>;

export const AccessToken = z.object({
  /** An EdDSA-signed JWT: `sub` is the user id, with `email`, `iss`, `aud`, `iat` and `exp`. */
  accessToken: z.string(),
  tokenType: z.literal('Bearer'),
  /** Seconds until it expires. */
  expiresIn: z.int(),
});
export type AccessToken = z.infer<typeof AccessToken>;

/** A public key as RFC 7517 publishes it; Ed25519 keys are OKP. */
export const PublicJwk = z.looseObject({
  kty: z.string(),
  crv: z.string().optional(),
  x: z.string().optional(),
  kid: z.string(),
  alg: z.string(),
  use: z.literal('sig'),
});
export type PublicJwk = z.infer<typeof PublicJwk>;

export const JwkSet = z.object({ keys: z.array(PublicJwk) });
export type JwkSet = z.infer<typeof JwkSet>;
