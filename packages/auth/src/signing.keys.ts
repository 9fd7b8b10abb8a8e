import { calculateJwkThumbprint, exportJWK, generateKeyPair } from 'jose';
import type { JWK } from 'jose';
import type { Database, Queryable } from '@portal/db';
import { TOKEN } from '@portal/http';
import { TOKEN_TTL_SECONDS } from './auth.tokens.js';

export interface SigningKey {
  readonly kid: string;
  /** Secret; never leaves this service. */
  readonly privateJwk: JWK;
  /** What the JWKS publishes: with kid, alg and use. */
  readonly publicJwk: JWK;
}

export interface StoredSigningKey extends SigningKey {
  readonly createdAt: Date;
}

/**
 * How long a retired key stays published after its successor was made, on top
 * of a token's lifetime: a replica may sign with it a moment after the
 * rotation (it sees the new key at its next token), and clocks drift.
 */
export const RETIRED_KEY_GRACE_SECONDS = 300;

/** Any 64-bit number, distinct from the migration and relay locks: one key generator at a time per database. */
const KEYGEN_LOCK = 7210420;

/**
 * The signing keys, newest first; generates the first one if there is none.
 * Replicas starting together take turns on an advisory lock, so they agree on
 * one key instead of each signing with its own.
 */
export async function loadSigningKeys(db: Database): Promise<StoredSigningKey[]> {
  const existing = await readSigningKeys(db);
  if (existing.length > 0) return existing;
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYGEN_LOCK]);
    const { rows } = await tx.query<{ n: number }>('SELECT count(*)::int AS n FROM signing_keys');
    if ((rows[0]?.n ?? 0) > 0) return;
    await insertSigningKey(tx);
  });
  return readSigningKeys(db);
}

/**
 * The key to sign with from now on: the newest, or a new one when the newest
 * is `maxAgeSeconds` old. Under the same lock as the first key, so replicas
 * that find the key old together make one successor, not one each. Keys are
 * dropped only once no token they signed can still be valid (their
 * successor is older than a token's lifetime plus a grace), so a rotation
 * never turns a signed-in reader away.
 */
export async function rotateSigningKeys(db: Database, maxAgeSeconds: number): Promise<StoredSigningKey> {
  await db.transaction(async (tx) => {
    await tx.query('SELECT pg_advisory_xact_lock($1)', [KEYGEN_LOCK]);
    const { rows } = await tx.query<{ fresh: boolean }>(
      `SELECT created_at > now() - $1::double precision * interval '1 second' AS fresh FROM signing_keys ORDER BY created_at DESC LIMIT 1`,
      [maxAgeSeconds],
    );
    if (rows[0]?.fresh !== true) await insertSigningKey(tx);
    await tx.query(
      `DELETE FROM signing_keys retired WHERE EXISTS (
         SELECT 1 FROM signing_keys successor
         WHERE successor.created_at > retired.created_at AND successor.created_at < now() - $1::double precision * interval '1 second')`,
      [TOKEN_TTL_SECONDS + RETIRED_KEY_GRACE_SECONDS],
    );
  });
  const [newest] = await readSigningKeys(db);
  if (!newest) throw new Error('no signing key after rotating');
  return newest;
}

async function readSigningKeys(db: Queryable): Promise<StoredSigningKey[]> {
  const { rows } = await db.query<{ kid: string; private_jwk: JWK; public_jwk: JWK; created_at: Date }>(
    'SELECT kid, private_jwk, public_jwk, created_at FROM signing_keys ORDER BY created_at DESC, kid',
  );
  return rows.map((r) => ({ kid: r.kid, privateJwk: r.private_jwk, publicJwk: r.public_jwk, createdAt: r.created_at }));
}

async function insertSigningKey(tx: Queryable): Promise<void> {
  const key = await generateSigningKey();
  await tx.query('INSERT INTO signing_keys (kid, private_jwk, public_jwk) VALUES ($1, $2, $3)', [
    key.kid,
    JSON.stringify(key.privateJwk),
    JSON.stringify(key.publicJwk),
  ]);
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
