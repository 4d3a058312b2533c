/**
 * JWK → `KeyObject`, once per JWK object. Importing a key (parsing, curve-point validation) costs more
 * than one ECDSA verification, so every signer, verifier, sealer and opener goes through this cache.
 * The cache is keyed by the JWK object's identity (a WeakMap): a registry or key file loaded once gives
 * the same objects for the life of the process, and nothing is kept once they are gone.
 */
import { createPrivateKey, createPublicKey, type JsonWebKey, type KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { InvalidKey } from '../errors.js';

const publicKeys = new WeakMap<object, KeyObject>();
const privateKeys = new WeakMap<object, KeyObject>();
const MIN_RSA_BITS = 2048;

/** The public `KeyObject` of a public (or private) JWK. Throws `InvalidKey`. */
export function publicKeyOf(jwk: JWK): KeyObject {
  return cached(publicKeys, jwk, () => createPublicKey({ key: publicMembers(jwk), format: 'jwk' }));
}

/** The private `KeyObject` of a private JWK. Throws `InvalidKey`. */
export function privateKeyOf(jwk: JWK): KeyObject {
  if (typeof jwk?.d !== 'string') throw new InvalidKey('JWK is not a private key');
  return cached(privateKeys, jwk, () => createPrivateKey({ key: jwk as JsonWebKey, format: 'jwk' }));
}

type KeyKind = 'P-256' | 'Ed25519' | 'X25519' | 'RSA';
/** `asymmetricKeyDetails` is computed by OpenSSL on every read: each key's kind is worked out once. */
const kinds = new WeakMap<KeyObject, KeyKind | null>();

/** A key is "ES256-capable" etc.: the fixed algorithm ↔ key type pairs hdx uses. */
export function keyFits(key: KeyObject, kind: KeyKind): boolean {
  let known = kinds.get(key);
  if (known === undefined) {
    known = kindOf(key);
    kinds.set(key, known);
  }
  return known === kind;
}

function kindOf(key: KeyObject): KeyKind | null {
  switch (key.asymmetricKeyType) {
    case 'ec':
      return key.asymmetricKeyDetails?.namedCurve === 'prime256v1' ? 'P-256' : null;
    case 'ed25519':
      return 'Ed25519';
    case 'x25519':
      return 'X25519';
    case 'rsa':
      return (key.asymmetricKeyDetails?.modulusLength ?? 0) >= MIN_RSA_BITS ? 'RSA' : null;
    default:
      return null;
  }
}

function cached(cache: WeakMap<object, KeyObject>, jwk: JWK, make: () => KeyObject): KeyObject {
  if (typeof jwk !== 'object' || jwk === null) throw new InvalidKey('JWK must be an object');
  let key = cache.get(jwk);
  if (!key) {
    try {
      key = make();
    } catch (cause) {
      throw new InvalidKey('JWK is not a valid key', { cause });
    }
    cache.set(jwk, key);
  }
  return key;
}

/** Only the members Node needs for a public key: a stray `d` must not turn a public import private. */
function publicMembers(jwk: JWK): JsonWebKey {
  const { kty, crv, x, y, n, e } = jwk;
  return Object.fromEntries(Object.entries({ kty, crv, x, y, n, e }).filter(([, v]) => v !== undefined)) as JsonWebKey;
}
