/**
 * Internal: compact JWS sign/verify shared by every signed format. One verification path, as a list of
 * named steps (sigstore-js style): structure and header (canonical base64url, alg, typ, kid; see
 * `keys/jose-native/jws.ts`) → key (from the verifier's JWKS only) → signature → registered claims →
 * issued-at sanity. The format modules add their claim schema and digest checks on top.
 *
 * Only ES256 and EdDSA are accepted. Keys come only from the verifier's JWKS: headers that embed or point
 * at keys (`jwk`, `jku`, `x5u`, `x5c`) and `crit` are refused, `alg: none` and HMAC never reach a key.
 * The cryptography is `node:crypto` with each key imported once (docs/decisions.md: jose-native).
 */
import type { KeyObject } from 'node:crypto';
import type { JSONWebKeySet, JWK, JWTPayload } from 'jose';
import { VerificationError } from '../errors.js';
import { isSigningAlg, type SigningAlg } from '../jose-keys.js';
import { decodeCompactJws, signCompact, verifySignature, type DecodedJws, type JwsHeader } from '../jose-native/jws.js';
import { parseJsonObject } from '../jose-native/base64url.js';
import { keyFits, privateKeyOf, publicKeyOf } from '../jose-native/key-objects.js';

export const ALLOWED_SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'EdDSA'];
const MAX_JWS_LENGTH = 64 * 1024;
/** Default tolerance for clocks of different parties, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE = 300;

/** Options every `verify…` function takes. */
export interface VerifyOptions {
  /** The verifier's own party URI: the token's `aud` must equal it. */
  audience: string;
  /** If given, the token's `iss` must equal it. */
  issuer?: string;
  /** Refuse tokens issued longer ago than this many seconds. */
  maxAge?: number;
  /** Clock tolerance in seconds (default 300). */
  clockTolerance?: number;
  /** "Now", for tests and for verifying old evidence. */
  currentDate?: Date;
}

export type ProtectedHeaderParameters = JwsHeader;

interface SigningKey {
  key: KeyObject;
  alg: SigningAlg;
  kid: string;
}

const signingKeys = new WeakMap<JWK, SigningKey>();

function signingKeyOf(privateJwk: JWK): SigningKey {
  let cached = signingKeys.get(privateJwk);
  if (!cached) {
    if (typeof privateJwk !== 'object' || privateJwk === null || typeof privateJwk.d !== 'string') {
      throw new TypeError('expected a private signing JWK');
    }
    const { alg, kid } = privateJwk;
    if (!isSigningAlg(alg)) throw new TypeError('signing JWK must have alg ES256 or EdDSA');
    if (typeof kid !== 'string' || kid.length === 0) throw new TypeError('signing JWK must have a kid');
    let key: KeyObject;
    try {
      key = privateKeyOf(privateJwk);
    } catch (cause) {
      throw new TypeError('signing JWK is not a valid key', { cause });
    }
    if (!keyFits(key, alg === 'ES256' ? 'P-256' : 'Ed25519')) throw new TypeError('signing JWK does not fit its alg');
    cached = { key, alg, kid };
    signingKeys.set(privateJwk, cached);
  }
  return cached;
}

/** Signs `claims` as a compact JWS with header `{alg, kid, typ}` taken from the private JWK. */
export async function signJwt(claims: JWTPayload, privateJwk: JWK, typ: string): Promise<string> {
  const { key, alg, kid } = signingKeyOf(privateJwk);
  return signCompact({ alg, kid, typ }, JSON.stringify(claims), key);
}

/** Verifies a compact JWS of the given `typ` against a JWKS; returns the (not yet schema-checked) claims. */
export async function verifyJwt(
  jws: unknown,
  jwks: JSONWebKeySet,
  typ: string,
  options: VerifyOptions,
): Promise<{ payload: JWTPayload; header: ProtectedHeaderParameters }> {
  checkOptions(options);
  const decoded = checkHeader(jws, typ);
  checkSignature(decoded, jwks);
  const payload = checkClaims(decoded, options);
  checkIssuedAt(payload, options);
  return { payload, header: decoded.header };
}

function checkOptions(options: VerifyOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options are required');
  if (typeof options.audience !== 'string' || options.audience.length === 0) throw new TypeError('audience is required');
  if (options.issuer !== undefined && typeof options.issuer !== 'string') throw new TypeError('issuer must be a string');
  if (options.maxAge !== undefined && (typeof options.maxAge !== 'number' || !(options.maxAge >= 0))) {
    throw new TypeError('maxAge must be a number of seconds');
  }
}

function checkHeader(jws: unknown, typ: string): DecodedJws {
  const decoded = decodeCompactJws(jws, MAX_JWS_LENGTH);
  if (decoded.header.typ !== typ) throw new VerificationError('ERR_TYP', 'JWS is not of the expected type');
  if (typeof decoded.header.kid !== 'string' || decoded.header.kid.length === 0) {
    throw new VerificationError('ERR_MALFORMED', 'JWS header has no key id');
  }
  return decoded;
}

/** Exactly one key of the JWKS has the token's kid and fits its alg; its signature must verify. */
function checkSignature(decoded: DecodedJws, jwks: JSONWebKeySet): void {
  if (typeof jwks !== 'object' || jwks === null || !Array.isArray(jwks.keys)) throw new TypeError('invalid JWKS');
  const { alg, kid } = decoded.header;
  const candidates = jwks.keys.filter(
    (k) =>
      typeof k === 'object' &&
      k !== null &&
      k.kid === kid &&
      (k.alg === undefined || k.alg === alg) &&
      (k.use === undefined || k.use === 'sig') &&
      (alg === 'ES256' ? k.kty === 'EC' && k.crv === 'P-256' : k.kty === 'OKP' && k.crv === 'Ed25519'),
  );
  if (candidates.length !== 1) throw new VerificationError('ERR_KEY', 'no trusted key matches the token');
  let key: KeyObject;
  try {
    key = publicKeyOf(candidates[0]!);
  } catch (cause) {
    throw new VerificationError('ERR_KEY', 'no trusted key matches the token', { cause });
  }
  if (!verifySignature(decoded, key)) throw new VerificationError('ERR_SIGNATURE', 'signature does not verify');
}

/** RFC 7519 §4.1 registered claims, checked after the signature (the claims are then the signer's). */
function checkClaims(decoded: DecodedJws, options: VerifyOptions): JWTPayload {
  const payload = parseJsonObject(decoded.payload, 'JWT claims') as JWTPayload;
  for (const claim of ['iss', 'aud', 'jti', 'iat'] as const) {
    if (payload[claim] === undefined) throw new VerificationError('ERR_MALFORMED', 'token claims are invalid');
  }
  for (const claim of ['iat', 'exp', 'nbf'] as const) {
    const v = payload[claim];
    if (v !== undefined && (typeof v !== 'number' || !Number.isFinite(v))) {
      throw new VerificationError('ERR_MALFORMED', claim === 'iat' ? 'token has an invalid issued-at time' : 'token claims are invalid');
    }
  }
  const { aud, iss } = payload;
  const addressed = aud === options.audience || (Array.isArray(aud) && aud.includes(options.audience));
  if (!addressed) throw new VerificationError('ERR_AUDIENCE', 'token is not addressed to this party');
  if (options.issuer !== undefined && iss !== options.issuer) {
    throw new VerificationError('ERR_ISSUER', 'token is not from the expected issuer');
  }
  const now = nowOf(options);
  const tolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  if (payload.nbf !== undefined && payload.nbf > now + tolerance) {
    throw new VerificationError('ERR_NOT_YET_VALID', 'token is not yet valid');
  }
  if (payload.exp !== undefined && payload.exp <= now - tolerance) throw new VerificationError('ERR_EXPIRED', 'token has expired');
  if (options.maxAge !== undefined && now - (payload.iat as number) - tolerance > options.maxAge) {
    throw new VerificationError('ERR_EXPIRED', 'token has expired');
  }
  return payload;
}

function nowOf(options: VerifyOptions): number {
  return Math.floor((options.currentDate ?? new Date()).getTime() / 1000);
}

/** A token from the future is refused always (not only with `maxAge`). */
function checkIssuedAt(payload: JWTPayload, options: VerifyOptions): void {
  const now = nowOf(options);
  const tolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) {
    throw new VerificationError('ERR_MALFORMED', 'token has an invalid issued-at time');
  }
  if (payload.iat > now + tolerance) throw new VerificationError('ERR_NOT_YET_VALID', 'token is issued in the future');
}
