/**
 * The sealed payload: a compact JWE (`enc` A256GCM) to one insurer's public key. Key management follows
 * the key: `ECDH-ES+A256KW` for EC P-256 and OKP X25519, `RSA-OAEP-256` for RSA. The protected header
 * carries `kid` (which of the insurer's keys opens it) and `cty`. The JWE travels beside the transfer
 * envelope, which signs its digest (`digestOf(jwe)`).
 *
 * `sealPayloadWith`/`openPayloadWith` take keys imported once (`importRecipientKey`,
 * `importDecryptionKey`), for a worker that seals or opens many payloads. The cryptography is
 * `node:crypto` (`keys/jose-native/jwe.ts`); jose opens what this seals and the reverse (tested).
 */
import type { KeyObject } from 'node:crypto';
import type { JWK } from 'jose';
import { VerificationError } from '../errors.js';
import { decodeCompactJwe, decodeJweHeader, decryptCompact, encryptCompact, type DecodedJwe } from '../jose-native/jwe.js';
import { privateKeyOf, publicKeyOf } from '../jose-native/key-objects.js';
import {
  assertKeyFitsAlg,
  assertPrivateJwk,
  assertPublicJwk,
  isEncryptionAlg,
  jwkThumbprint,
  type EncryptionAlg,
} from '../jose-keys.js';

export const PAYLOAD_CONTENT_TYPE = 'application/fhir+json';
export const PAYLOAD_ENC = 'A256GCM';
const ALLOWED_KEY_MANAGEMENT: readonly EncryptionAlg[] = ['ECDH-ES+A256KW', 'RSA-OAEP-256'];
/** A 19 KB bundle seals to ≈ 26 KB; far above any bundle the gateway admits. */
const MAX_JWE_LENGTH = 64 * 1024 * 1024;

/** A recipient's public key, imported once. */
export interface RecipientKey {
  key: KeyObject;
  alg: EncryptionAlg;
  kid: string;
}

/** A recipient's private key, imported once. */
export interface DecryptionKey {
  key: KeyObject;
  alg: EncryptionAlg;
  kid: string;
}

export interface SealOptions {
  /** The `cty` header; default `application/fhir+json`. */
  contentType?: string;
}

/** The checked protected header of a payload JWE. */
export interface PayloadHeader {
  alg: EncryptionAlg;
  enc: typeof PAYLOAD_ENC;
  kid: string;
  cty?: string;
}

const recipientCache = new WeakMap<JWK, Promise<RecipientKey>>();
const decryptionCache = new WeakMap<JWK, Promise<DecryptionKey>>();

/** Imports a recipient's public encryption JWK. Throws `InvalidKey` if it is not a usable public key. */
export async function importRecipientKey(publicJwk: JWK): Promise<RecipientKey> {
  assertPublicJwk(publicJwk);
  const alg = encryptionAlgOf(publicJwk);
  const kid = publicJwk.kid ?? jwkThumbprint(publicJwk);
  return { key: publicKeyOf(publicJwk), alg, kid };
}

/** Imports one's own private encryption JWK. Throws `InvalidKey` if it is not a usable private key. */
export async function importDecryptionKey(privateJwk: JWK): Promise<DecryptionKey> {
  assertPrivateJwk(privateJwk);
  const alg = encryptionAlgOf(privateJwk);
  const kid = privateJwk.kid ?? jwkThumbprint(privateJwk);
  return { key: privateKeyOf(privateJwk), alg, kid };
}

/** Seals `plaintext` to a recipient's public JWK. Refuses a JWK with private members. */
export async function sealPayload(plaintext: Uint8Array, recipientPublicJwk: JWK, options?: SealOptions): Promise<string> {
  return sealPayloadWith(plaintext, await cached(recipientCache, recipientPublicJwk, importRecipientKey), options);
}

export async function sealPayloadWith(plaintext: Uint8Array, recipient: RecipientKey, options?: SealOptions): Promise<string> {
  if (!(plaintext instanceof Uint8Array)) throw new TypeError('plaintext must be a Uint8Array');
  if (!recipient || !isEncryptionAlg(recipient.alg) || typeof recipient.kid !== 'string') {
    throw new TypeError('invalid recipient key');
  }
  const cty = options?.contentType ?? PAYLOAD_CONTENT_TYPE;
  return encryptCompact(plaintext, recipient.key, { alg: recipient.alg, enc: PAYLOAD_ENC, kid: recipient.kid, cty });
}

/**
 * Opens a payload JWE with one's private JWK, or with whichever of several (current and pre-rotation
 * keys) has the JWE's `kid`. Throws `VerificationError`: ERR_MALFORMED, ERR_ALG, ERR_KEY (no key with
 * that kid), ERR_DECRYPT.
 */
export async function openPayload(jwe: string, privateJwk: JWK | readonly JWK[]): Promise<Uint8Array> {
  const jwks = Array.isArray(privateJwk) ? (privateJwk as readonly JWK[]) : [privateJwk as JWK];
  const decoded = decodeCompactJwe(jwe, MAX_JWE_LENGTH);
  const header = checkPayloadHeader(decoded.header as unknown as Record<string, unknown>);
  const match = jwks.find((k) => (k.kid ?? jwkThumbprint(k)) === header.kid);
  if (!match) throw new VerificationError('ERR_KEY', 'no decryption key matches the payload');
  return openDecoded(decoded, header, [await cached(decryptionCache, match, importDecryptionKey)]);
}

export async function openPayloadWith(jwe: string, keys: DecryptionKey | readonly DecryptionKey[]): Promise<Uint8Array> {
  const list = Array.isArray(keys) ? (keys as readonly DecryptionKey[]) : [keys as DecryptionKey];
  const decoded = decodeCompactJwe(jwe, MAX_JWE_LENGTH);
  return openDecoded(decoded, checkPayloadHeader(decoded.header as unknown as Record<string, unknown>), list);
}

function openDecoded(decoded: DecodedJwe, header: PayloadHeader, list: readonly DecryptionKey[]): Uint8Array {
  const key = list.find((k) => k.kid === header.kid);
  if (!key) throw new VerificationError('ERR_KEY', 'no decryption key matches the payload');
  if (key.alg !== header.alg) throw new VerificationError('ERR_ALG', 'payload algorithm does not fit the key');
  return decryptCompact(decoded, key.key);
}

/**
 * Decodes and checks a payload JWE's protected header (no decryption; the other parts are checked, and
 * the ciphertext decoded, only when it is opened). Throws `VerificationError`.
 */
export function readPayloadHeader(jwe: unknown): PayloadHeader {
  return checkPayloadHeader(decodeJweHeader(jwe, MAX_JWE_LENGTH) as unknown as Record<string, unknown>);
}

function checkPayloadHeader(header: Record<string, unknown>): PayloadHeader {
  const { alg, enc, kid, cty } = header;
  if (!isEncryptionAlg(alg) || !ALLOWED_KEY_MANAGEMENT.includes(alg) || enc !== PAYLOAD_ENC) {
    throw new VerificationError('ERR_ALG', 'payload algorithm is not allowed');
  }
  if (typeof kid !== 'string' || kid.length === 0) throw new VerificationError('ERR_MALFORMED', 'payload has no key id');
  if (cty !== undefined && typeof cty !== 'string') throw new VerificationError('ERR_MALFORMED', 'payload cty is invalid');
  return { alg, enc, kid, ...(cty !== undefined && { cty }) };
}

/** The key management algorithm for a key: its `alg` if set (and fitting), else from its type. */
function encryptionAlgOf(jwk: JWK): EncryptionAlg {
  let alg: EncryptionAlg;
  if (jwk.alg !== undefined) {
    if (!isEncryptionAlg(jwk.alg)) throw new TypeError('JWK alg is not an allowed encryption algorithm');
    alg = jwk.alg;
  } else {
    alg = jwk.kty === 'RSA' ? 'RSA-OAEP-256' : 'ECDH-ES+A256KW';
  }
  if (jwk.use !== undefined && jwk.use !== 'enc') throw new TypeError('JWK is not an encryption key');
  assertKeyFitsAlg(jwk, alg);
  return alg;
}

function cached<K extends object, V>(cache: WeakMap<K, Promise<V>>, key: K, make: (k: K) => Promise<V>): Promise<V> {
  let value = cache.get(key);
  if (!value) {
    value = make(key);
    cache.set(key, value);
    value.catch(() => cache.delete(key));
  }
  return value;
}
