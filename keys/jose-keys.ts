/**
 * JOSE key pairs as JWKs. Keys are generated with Node's crypto (synchronous, fast) and exported as JWK;
 * every generated key carries `kid` = its RFC 7638 thumbprint, `alg` and `use`. Public JWKs are built by
 * allow-listing public members, never by deleting private ones, so an unexpected member cannot leak.
 */
import { createPrivateKey, createPublicKey, generateKeyPairSync, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { canonicalJson, sha256 } from './canonical.js';
import { InvalidKey } from './errors.js';

export type SigningAlg = 'ES256' | 'EdDSA';
export type EncryptionAlg = 'ECDH-ES+A256KW' | 'RSA-OAEP-256';
export type EncryptionCurve = 'P-256' | 'X25519';
export type KeyUse = 'sig' | 'enc';

export const SIGNING_ALGS: readonly SigningAlg[] = Object.freeze(['ES256', 'EdDSA'] as const);
export const ENCRYPTION_ALGS: readonly EncryptionAlg[] = Object.freeze(['ECDH-ES+A256KW', 'RSA-OAEP-256'] as const);

export interface JwkPair {
  privateJwk: JWK;
  publicJwk: JWK;
}

const RSA_BITS = 2048;
const MIN_RSA_BITS = 2048;

/** Members that only a private (or symmetric) key has. */
const PRIVATE_MEMBERS = ['d', 'p', 'q', 'dp', 'dq', 'qi', 'oth', 'k'] as const;

/** Public members per key type, in RFC 7638 thumbprint order (lexicographic). */
const PUBLIC_MEMBERS: Record<string, readonly string[]> = {
  EC: ['crv', 'kty', 'x', 'y'],
  OKP: ['crv', 'kty', 'x'],
  RSA: ['e', 'kty', 'n'],
};

export function isSigningAlg(value: unknown): value is SigningAlg {
  return typeof value === 'string' && (SIGNING_ALGS as readonly string[]).includes(value);
}

export function isEncryptionAlg(value: unknown): value is EncryptionAlg {
  return typeof value === 'string' && (ENCRYPTION_ALGS as readonly string[]).includes(value);
}

export function generateSigningKey(alg: SigningAlg): JwkPair {
  let key: KeyObject;
  if (alg === 'ES256') key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
  else if (alg === 'EdDSA') key = generateKeyPairSync('ed25519').privateKey;
  else throw new TypeError('unsupported signing algorithm');
  return pairOf(key, alg, 'sig');
}

/** `ECDH-ES+A256KW` on P-256 (default) or X25519, or `RSA-OAEP-256` (2048-bit, no curve). */
export function generateEncryptionKey(alg: EncryptionAlg, crv?: EncryptionCurve): JwkPair {
  let key: KeyObject;
  if (alg === 'ECDH-ES+A256KW') {
    const curve = crv ?? 'P-256';
    if (curve === 'P-256') key = generateKeyPairSync('ec', { namedCurve: 'P-256' }).privateKey;
    else if (curve === 'X25519') key = generateKeyPairSync('x25519').privateKey;
    else throw new TypeError('unsupported curve');
  } else if (alg === 'RSA-OAEP-256') {
    if (crv !== undefined) throw new TypeError('RSA-OAEP-256 takes no curve');
    key = generateKeyPairSync('rsa', { modulusLength: RSA_BITS }).privateKey;
  } else {
    throw new TypeError('unsupported encryption algorithm');
  }
  return pairOf(key, alg, 'enc');
}

/** RFC 7638 JWK thumbprint (SHA-256, base64url) of a public or private JWK. */
export function jwkThumbprint(jwk: JWK): string {
  const members = typeof jwk?.kty === 'string' ? PUBLIC_MEMBERS[jwk.kty] : undefined;
  if (!members) throw new InvalidKey('unsupported key type');
  const required: Record<string, unknown> = {};
  for (const m of members) {
    const v = (jwk as Record<string, unknown>)[m];
    if (typeof v !== 'string' || v.length === 0) throw new InvalidKey('JWK lacks a required member');
    required[m] = v;
  }
  return sha256(canonicalJson(required)).toString('base64url');
}

export function hasPrivateMembers(jwk: object): boolean {
  return PRIVATE_MEMBERS.some((m) => Object.hasOwn(jwk, m));
}

/**
 * The public JWK of a private one: the public members of its type plus `kid`, `alg` and `use`
 * (a `kid` is computed if missing). Throws TypeError if it is not a private EC/OKP/RSA JWK.
 */
export function publicJwkOf(privateJwk: JWK): JWK {
  if (typeof privateJwk !== 'object' || privateJwk === null || typeof privateJwk.d !== 'string') {
    throw new TypeError('expected a private JWK');
  }
  const members = typeof privateJwk.kty === 'string' ? PUBLIC_MEMBERS[privateJwk.kty] : undefined;
  if (!members) throw new TypeError('unsupported key type');
  const pub: Record<string, unknown> = {};
  for (const m of [...members].sort(memberOrder)) pub[m] = (privateJwk as Record<string, unknown>)[m];
  pub['kid'] = privateJwk.kid ?? jwkThumbprint(privateJwk);
  if (privateJwk.alg !== undefined) pub['alg'] = privateJwk.alg;
  if (privateJwk.use !== undefined) pub['use'] = privateJwk.use;
  return pub as JWK;
}

/**
 * Checks an untrusted JWK that must be public: a JSON object of type EC, OKP or RSA, no private
 * members, a key Node can import (points on the curve, RSA ≥ 2048 bits). Returns it unchanged.
 * Throws `InvalidKey`.
 */
export function assertPublicJwk(jwk: unknown): JWK {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new InvalidKey('JWK must be an object');
  if (hasPrivateMembers(jwk)) throw new InvalidKey('JWK has private key members where a public key is expected');
  keyObjectOf(jwk as JWK, 'public');
  return jwk as JWK;
}

/** Checks an untrusted JWK that must be private (EC, OKP or RSA). Returns it unchanged. Throws `InvalidKey`. */
export function assertPrivateJwk(jwk: unknown): JWK {
  if (typeof jwk !== 'object' || jwk === null || Array.isArray(jwk)) throw new InvalidKey('JWK must be an object');
  if (typeof (jwk as JWK).d !== 'string') throw new InvalidKey('JWK is not a private key');
  keyObjectOf(jwk as JWK, 'private');
  return jwk as JWK;
}

/**
 * Checks that a JWK fits an algorithm: ES256 → EC P-256; EdDSA → OKP Ed25519; ECDH-ES+A256KW → EC P-256
 * or OKP X25519; RSA-OAEP-256 → RSA. Throws `InvalidKey`.
 */
export function assertKeyFitsAlg(jwk: JWK, alg: SigningAlg | EncryptionAlg): void {
  const ok =
    alg === 'ES256'
      ? jwk.kty === 'EC' && jwk.crv === 'P-256'
      : alg === 'EdDSA'
        ? jwk.kty === 'OKP' && jwk.crv === 'Ed25519'
        : alg === 'ECDH-ES+A256KW'
          ? (jwk.kty === 'EC' && jwk.crv === 'P-256') || (jwk.kty === 'OKP' && jwk.crv === 'X25519')
          : alg === 'RSA-OAEP-256' && jwk.kty === 'RSA';
  if (!ok) throw new InvalidKey('key type does not fit its algorithm');
}

function keyObjectOf(jwk: JWK, type: 'public' | 'private'): KeyObject {
  if (typeof jwk.kty !== 'string' || !PUBLIC_MEMBERS[jwk.kty]) throw new InvalidKey('unsupported key type');
  let key: KeyObject;
  try {
    const input = { key: jwk as JsonWebKey, format: 'jwk' as const };
    key = type === 'public' ? createPublicKey(input) : createPrivateKey(input);
  } catch (cause) {
    throw new InvalidKey('JWK is not a valid key', { cause });
  }
  if (key.asymmetricKeyType === 'rsa' && (key.asymmetricKeyDetails?.modulusLength ?? 0) < MIN_RSA_BITS) {
    throw new InvalidKey('RSA key is too short');
  }
  return key;
}

function pairOf(key: KeyObject, alg: SigningAlg | EncryptionAlg, use: KeyUse): JwkPair {
  const exported = key.export({ format: 'jwk' }) as Record<string, unknown>;
  const publicMembers = PUBLIC_MEMBERS[String(exported['kty'])]!;
  const kid = jwkThumbprint(exported as JWK);
  const privateJwk: Record<string, unknown> = {};
  for (const m of [...publicMembers].sort(memberOrder)) privateJwk[m] = exported[m];
  for (const [m, v] of Object.entries(exported)) if (!(m in privateJwk)) privateJwk[m] = v;
  Object.assign(privateJwk, { kid, alg, use });
  return { privateJwk: privateJwk as JWK, publicJwk: publicJwkOf(privateJwk as JWK) };
}

/** `kty` first, then the rest alphabetically: readable JWK files. */
function memberOrder(a: string, b: string): number {
  if (a === 'kty') return -1;
  if (b === 'kty') return 1;
  return a < b ? -1 : a > b ? 1 : 0;
}
