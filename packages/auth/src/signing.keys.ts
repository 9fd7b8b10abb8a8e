import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import type { Database } from '@portal/db';
import { TOKEN } from '@portal/http';

export interface SigningKey {
  readonly kid: string;
  /** Secret; never leaves this service. */
  readonly privateJwk: JWK;
  /** What the JWKS publishes: with kid, alg and use. */
  readonly publicJwk: JWK;
}

/** Any 64-bit number, distinct from the migration and relay locks: one key generator at a time per database. */
const KEYGEN_LOCK = 7210420;

/**
 * The signing keys, newest first; generates the first one if there is none.
 * Replicas starting together take turns on an advisory lock, so they agree on
 * one key instead of each signing with its own.
 */
export async function loadSigningKeys(db: Database): Promise<SigningKey[]> {
  const read = async () =>
    (
      await db.query<{ kid: string; private_jwk: JWK; public_jwk: JWK }>(
        'SELECT kid, private_jwk, public_jwk FROM signing_keys ORDER BY created_at DESC, kid',
      )
    ).rows.map((r) => ({ kid: r.kid, privateJwk: r.private_jwk, publicJwk: r.public_jwk }));
  const existing = await read();
  if (existing.length > 0) return existing;
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYGEN_LOCK]);
    const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM signing_keys');
    if ((rows[0]?.n ?? 0) > 0) return;
    const key = await generateSigningKey();
    await tx.query('INSERT INTO signing_keys (kid, private_jwk, public_jwk) VALUES ($1, $2, $3)', [
      key.kid,
      JSON.stringify(key.privateJwk),
      JSON.stringify(key.publicJwk),
    ]);
  });
  return read();
}

/** A new Ed25519 key pair; its kid is the RFC 7638 thumbprint of the public key. */
export async function generateSigningKey(): Promise<SigningKey> {
  const { publicKey, privateKey } = await generateKeyPair(TOKEN.algorithm, { crv: 'Ed25519', extractable: true });
  const bare = await exportJWK(publicKey);
  const kid = await calculateJwkThumbprint(bare);
  return {
    kid,
    privateJwk: { ...(await exportJWK(privateKey)), kid, alg: TOKEN.algorithm },
    publicJwk: { ...bare, kid, alg: TOKEN.algorithm, use: 'sig' },
  };
}
