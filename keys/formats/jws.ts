/**
 * Internal: compact JWS sign/verify shared by every signed format. One verification path, as a list of
 * named steps (sigstore-js style): structure → header (alg, typ, kid) → signature and registered claims
 * (jose) → issued-at sanity. The format modules add their claim schema and digest checks on top.
 *
 * Only ES256 and EdDSA are accepted. Keys come only from the verifier's JWKS: `jwk`, `jku`, `x5u`, `x5c`
 * headers are ignored, `crit` is refused by jose, `alg: none` and HMAC never reach a key.
 */
import {
  SignJWT,
  createLocalJWKSet,
  decodeProtectedHeader,
  errors,
  importJWK,
  jwtVerify,
  type CryptoKey,
  type JSONWebKeySet,
  type JWK,
  type JWTPayload,
  type JWTVerifyGetKey,
  type ProtectedHeaderParameters,
} from 'jose';
import { VerificationError, type VerificationErrorCode } from '../errors.js';
import { isSigningAlg, type SigningAlg } from '../jose-keys.js';

export const ALLOWED_SIGNING_ALGS: readonly SigningAlg[] = ['ES256', 'EdDSA'];
const MAX_JWS_LENGTH = 64 * 1024;
const COMPACT_JWS = /^[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+$/;
/** Default tolerance for clocks of different parties, in seconds. */
export const DEFAULT_CLOCK_TOLERANCE = 300;

/** Options every `verify…` function takes. */
export interface VerifyOptions {
  /** The verifier's own party URI: the token's `aud` must equal it. */
  audience: string;
  /** If given, the token's `iss` must equal it. */
  issuer?: string;
  /** Refuse tokens issued longer ago than this (seconds, or a jose time span such as `"10m"`). */
  maxAge?: number | string;
  /** Clock tolerance in seconds (default 300). */
  clockTolerance?: number;
  /** "Now", for tests and for verifying old evidence. */
  currentDate?: Date;
}

interface SigningKey {
  key: CryptoKey;
  alg: SigningAlg;
  kid: string;
}

const signingKeys = new WeakMap<JWK, Promise<SigningKey>>();
const keySets = new WeakMap<JSONWebKeySet, JWTVerifyGetKey>();

function signingKeyOf(privateJwk: JWK): Promise<SigningKey> {
  let cached = signingKeys.get(privateJwk);
  if (!cached) {
    if (typeof privateJwk !== 'object' || privateJwk === null || typeof privateJwk.d !== 'string') {
      throw new TypeError('expected a private signing JWK');
    }
    const { alg, kid } = privateJwk;
    if (!isSigningAlg(alg)) throw new TypeError('signing JWK must have alg ES256 or EdDSA');
    if (typeof kid !== 'string' || kid.length === 0) throw new TypeError('signing JWK must have a kid');
    cached = importJWK(privateJwk, alg).then((key) => ({ key: key as CryptoKey, alg, kid }));
    signingKeys.set(privateJwk, cached);
    cached.catch(() => signingKeys.delete(privateJwk));
  }
  return cached;
}

function keySetOf(jwks: JSONWebKeySet): JWTVerifyGetKey {
  let getKey = keySets.get(jwks);
  if (!getKey) {
    try {
      getKey = createLocalJWKSet(jwks);
    } catch (cause) {
      throw new TypeError('invalid JWKS', { cause });
    }
    keySets.set(jwks, getKey);
  }
  return getKey;
}

/** Signs `claims` as a compact JWS with header `{alg, kid, typ}` taken from the private JWK. */
export async function signJwt(claims: JWTPayload, privateJwk: JWK, typ: string): Promise<string> {
  const { key, alg, kid } = await signingKeyOf(privateJwk);
  return new SignJWT(claims).setProtectedHeader({ alg, kid, typ }).sign(key);
}

/** Verifies a compact JWS of the given `typ` against a JWKS; returns the (not yet schema-checked) claims. */
export async function verifyJwt(
  jws: unknown,
  jwks: JSONWebKeySet,
  typ: string,
  options: VerifyOptions,
): Promise<{ payload: JWTPayload; header: ProtectedHeaderParameters }> {
  checkOptions(options);
  const header = checkHeader(jws, typ);
  const payload = await checkSignatureAndClaims(jws as string, jwks, typ, options);
  checkIssuedAt(payload, options);
  return { payload, header };
}

function checkOptions(options: VerifyOptions): void {
  if (typeof options !== 'object' || options === null) throw new TypeError('options are required');
  if (typeof options.audience !== 'string' || options.audience.length === 0) throw new TypeError('audience is required');
  if (options.issuer !== undefined && typeof options.issuer !== 'string') throw new TypeError('issuer must be a string');
}

function checkHeader(jws: unknown, typ: string): ProtectedHeaderParameters {
  if (typeof jws !== 'string' || jws.length > MAX_JWS_LENGTH || jws.split('.').length !== 3) {
    throw new VerificationError('ERR_MALFORMED', 'not a compact JWS');
  }
  let header: ProtectedHeaderParameters;
  try {
    header = decodeProtectedHeader(jws);
  } catch (cause) {
    throw new VerificationError('ERR_MALFORMED', 'JWS header cannot be decoded', { cause });
  }
  if (!isSigningAlg(header.alg)) throw new VerificationError('ERR_ALG', 'JWS algorithm is not allowed');
  if (header.typ !== typ) throw new VerificationError('ERR_TYP', 'JWS is not of the expected type');
  if (typeof header.kid !== 'string' || header.kid.length === 0) {
    throw new VerificationError('ERR_MALFORMED', 'JWS header has no key id');
  }
  if (!COMPACT_JWS.test(jws)) throw new VerificationError('ERR_MALFORMED', 'not a compact JWS');
  return header;
}

async function checkSignatureAndClaims(
  jws: string,
  jwks: JSONWebKeySet,
  typ: string,
  options: VerifyOptions,
): Promise<JWTPayload> {
  try {
    const { payload } = await jwtVerify(jws, keySetOf(jwks), {
      algorithms: [...ALLOWED_SIGNING_ALGS],
      typ,
      audience: options.audience,
      ...(options.issuer !== undefined && { issuer: options.issuer }),
      ...(options.maxAge !== undefined && { maxTokenAge: options.maxAge }),
      ...(options.currentDate !== undefined && { currentDate: options.currentDate }),
      clockTolerance: options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE,
      requiredClaims: ['iss', 'aud', 'jti', 'iat'],
    });
    return payload;
  } catch (cause) {
    if (cause instanceof TypeError) throw cause;
    const [code, message] = classify(cause);
    throw new VerificationError(code, message, { cause });
  }
}

function classify(error: unknown): [VerificationErrorCode, string] {
  if (error instanceof errors.JWTExpired) return ['ERR_EXPIRED', 'token has expired'];
  if (error instanceof errors.JWTClaimValidationFailed) {
    switch (error.claim) {
      case 'aud':
        return ['ERR_AUDIENCE', 'token is not addressed to this party'];
      case 'iss':
        return ['ERR_ISSUER', 'token is not from the expected issuer'];
      case 'typ':
        return ['ERR_TYP', 'token is not of the expected type'];
      case 'nbf':
        return ['ERR_NOT_YET_VALID', 'token is not yet valid'];
      case 'iat':
        return error.reason === 'check_failed'
          ? ['ERR_NOT_YET_VALID', 'token is issued in the future']
          : ['ERR_MALFORMED', 'token has an invalid issued-at time'];
      default:
        return ['ERR_MALFORMED', 'token claims are invalid'];
    }
  }
  if (error instanceof errors.JWSSignatureVerificationFailed) return ['ERR_SIGNATURE', 'signature does not verify'];
  if (error instanceof errors.JWKSNoMatchingKey || error instanceof errors.JWKSMultipleMatchingKeys) {
    return ['ERR_KEY', 'no trusted key matches the token'];
  }
  if (error instanceof errors.JOSEAlgNotAllowed || error instanceof errors.JOSENotSupported) {
    return ['ERR_ALG', 'token algorithm is not allowed'];
  }
  return ['ERR_MALFORMED', 'token is malformed'];
}

/** jose checks `iat` against the clock only with `maxTokenAge`; a token from the future is refused always. */
function checkIssuedAt(payload: JWTPayload, options: VerifyOptions): void {
  const now = Math.floor((options.currentDate ?? new Date()).getTime() / 1000);
  const tolerance = options.clockTolerance ?? DEFAULT_CLOCK_TOLERANCE;
  if (typeof payload.iat !== 'number' || !Number.isFinite(payload.iat)) {
    throw new VerificationError('ERR_MALFORMED', 'token has an invalid issued-at time');
  }
  if (payload.iat > now + tolerance) throw new VerificationError('ERR_NOT_YET_VALID', 'token is issued in the future');
}
