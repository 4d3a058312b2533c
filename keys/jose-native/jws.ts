/**
 * Compact JWS (RFC 7515) for the two signature algorithms hdx uses: ES256 (RFC 7518 §3.4, P-256, raw
 * R‖S) and EdDSA (RFC 8037, Ed25519), over `node:crypto` (OpenSSL) with imported `KeyObject`s.
 *
 * Strict by construction: three canonical base64url segments; a protected header that is a JSON object
 * with only `alg`, `kid`, `typ`, `cty`; no `crit` (we understand no extension, and RFC 7515 §4.1.11
 * says a recipient must refuse what it does not understand), no `b64`, no embedded or referenced keys;
 * `alg` is one of the two (so `none` and HMAC never reach a key); the key's type must fit `alg`.
 */
import { sign, verify, type KeyObject } from 'node:crypto';
import { VerificationError } from '../errors.js';
import { decodeBase64url, decodeJsonObject, encodeBase64url } from './base64url.js';
import { keyFits } from './key-objects.js';

export type JwsAlg = 'ES256' | 'EdDSA';
export const JWS_ALGS: readonly JwsAlg[] = ['ES256', 'EdDSA'];
const HEADER_MEMBERS = new Set(['alg', 'kid', 'typ', 'cty']);
const SIGNATURE_BYTES = 64;

export interface JwsHeader {
  alg: JwsAlg;
  kid?: string;
  typ?: string;
  cty?: string;
}

/** A compact JWS taken apart and checked for form; the signature is not yet verified. */
export interface DecodedJws {
  header: JwsHeader;
  payload: Buffer;
  signingInput: string;
  signature: Buffer;
}

export function isJwsAlg(value: unknown): value is JwsAlg {
  return value === 'ES256' || value === 'EdDSA';
}

/** Signs `payload` with header `header` (members in that order). Throws TypeError if the key does not fit. */
export function signCompact(header: JwsHeader, payload: Uint8Array | string, key: KeyObject): string {
  if (!isJwsAlg(header.alg)) throw new TypeError('unsupported JWS algorithm');
  if (key.type !== 'private' || !keyFits(key, curveOf(header.alg))) throw new TypeError('key does not fit the JWS algorithm');
  const signingInput = `${encodeBase64url(JSON.stringify(header))}.${encodeBase64url(payload)}`;
  const data = Buffer.from(signingInput, 'ascii');
  const signature =
    header.alg === 'ES256' ? sign('sha256', data, { key, dsaEncoding: 'ieee-p1363' }) : sign(null, data, key);
  return `${signingInput}.${signature.toString('base64url')}`;
}

/** Takes a compact JWS apart; throws `VerificationError` ERR_MALFORMED or ERR_ALG. */
export function decodeCompactJws(jws: unknown, maxLength: number): DecodedJws {
  if (typeof jws !== 'string' || jws.length > maxLength) throw new VerificationError('ERR_MALFORMED', 'not a compact JWS');
  const parts = jws.split('.');
  if (parts.length !== 3) throw new VerificationError('ERR_MALFORMED', 'not a compact JWS');
  const [h, p, s] = parts as [string, string, string];
  const raw = decodeJsonObject(h, 'JWS header');
  // The algorithm first: `alg: none` with its empty signature is an algorithm refusal, not a format one.
  if (!isJwsAlg(raw['alg'])) throw new VerificationError('ERR_ALG', 'JWS algorithm is not allowed');
  for (const member of Object.keys(raw)) {
    if (!HEADER_MEMBERS.has(member)) throw new VerificationError('ERR_MALFORMED', 'JWS header has a member that is not allowed');
  }
  for (const member of ['kid', 'typ', 'cty'] as const) {
    if (raw[member] !== undefined && typeof raw[member] !== 'string') {
      throw new VerificationError('ERR_MALFORMED', 'JWS header member is not a string');
    }
  }
  if (p.length === 0 || s.length === 0) throw new VerificationError('ERR_MALFORMED', 'not a compact JWS');
  const payload = decodeBase64url(p, 'JWS payload');
  const signature = decodeBase64url(s, 'JWS signature');
  return { header: raw as unknown as JwsHeader, payload, signingInput: `${h}.${p}`, signature };
}

/** True if the signature verifies with `key`; a key that does not fit `alg` never verifies. */
export function verifySignature(decoded: DecodedJws, key: KeyObject): boolean {
  const { alg } = decoded.header;
  if (!keyFits(key, curveOf(alg)) || decoded.signature.length !== SIGNATURE_BYTES) return false;
  const data = Buffer.from(decoded.signingInput, 'ascii');
  return alg === 'ES256'
    ? verify('sha256', data, { key, dsaEncoding: 'ieee-p1363' }, decoded.signature)
    : verify(null, data, key, decoded.signature);
}

function curveOf(alg: JwsAlg): 'P-256' | 'Ed25519' {
  return alg === 'ES256' ? 'P-256' : 'Ed25519';
}
