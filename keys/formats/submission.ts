/**
 * The hospital's signed submission (`hdx-submission+jwt`): "I, this hospital, submit the bundle with this
 * digest for this purpose", with the idempotency key as `jti`. `bundleDigest` is `digestOf` the exact
 * bundle bytes as submitted (not a re-serialisation), so any stack recomputes it without a JSON library.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { digestOf } from '../canonical.js';
import { VerificationError } from '../errors.js';
import { codeAt, digestAt, malformed, misuse, nowSeconds, numericDateAt, objectAt, partyUriAt, tokenAt, type Fail } from './claims.js';
import { signJwt, verifyJwt, type VerifyOptions } from './jws.js';

export const SUBMISSION_TYP = 'hdx-submission+jwt';

export interface SubmissionClaims {
  /** The hospital's URI. */
  iss: string;
  /** The gateway's URI. */
  aud: string;
  /** The idempotency key. */
  jti: string;
  iat: number;
  hdx: {
    /** `digestOf(bundle bytes)`. */
    bundleDigest: string;
    purpose: string;
  };
}

export interface VerifySubmissionOptions extends VerifyOptions {
  /** If given, `bundleDigest` must be `digestOf(bundle)`. */
  bundle?: Uint8Array | string;
}

/** `digestOf(bundle)`: what `hdx.bundleDigest` must be. */
export function bundleDigestOf(bundle: Uint8Array | string): string {
  return digestOf(bundle);
}

export async function signSubmission(claims: Omit<SubmissionClaims, 'iat'> & { iat?: number }, privateJwk: JWK): Promise<string> {
  const checked = submissionClaims({ ...claims, iat: claims?.iat ?? nowSeconds() }, misuse);
  return signJwt({ ...checked }, privateJwk, SUBMISSION_TYP);
}

/** Verifies a submission against the hospital's JWKS, for `options.audience` (the gateway). */
export async function verifySubmission(
  jws: string,
  hospitalJwks: JSONWebKeySet,
  options: VerifySubmissionOptions,
): Promise<SubmissionClaims> {
  const bundle = options?.bundle;
  if (bundle !== undefined && typeof bundle !== 'string' && !(bundle instanceof Uint8Array)) {
    throw new TypeError('bundle must be a Uint8Array or a string');
  }
  const { payload } = await verifyJwt(jws, hospitalJwks, SUBMISSION_TYP, options);
  const claims = submissionClaims(payload, malformed);
  if (bundle !== undefined && bundleDigestOf(bundle) !== claims.hdx.bundleDigest) {
    throw new VerificationError('ERR_DIGEST', 'bundle does not match the submission');
  }
  return claims;
}

function submissionClaims(value: unknown, fail: Fail): SubmissionClaims {
  const c = objectAt(value, 'claims', fail);
  const hdx = objectAt(c['hdx'], 'hdx', fail);
  return {
    iss: partyUriAt(c['iss'], 'iss', 'hospital', fail),
    aud: partyUriAt(c['aud'], 'aud', 'gateway', fail),
    jti: tokenAt(c['jti'], 'jti', fail),
    iat: numericDateAt(c['iat'], 'iat', fail),
    hdx: {
      bundleDigest: digestAt(hdx['bundleDigest'], 'hdx.bundleDigest', fail),
      purpose: codeAt(hdx['purpose'], 'hdx.purpose', fail),
    },
  };
}
