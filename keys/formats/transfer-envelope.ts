/**
 * The transfer envelope: the gateway's signed statement that it sent one sealed payload (a JWE) to one
 * insurer, about one pseudonymous patient, under one consent. The JWE travels beside the envelope and
 * the envelope signs its digest (`payloadDigest = digestOf(jwe)`): no double base64, and once the
 * ciphertext is deleted the evidence keeps only digests.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { digestOf } from '../canonical.js';
import { VerificationError } from '../errors.js';
import {
  codeAt,
  codesAt,
  digestAt,
  instantStringAt,
  malformed,
  misuse,
  nowSeconds,
  numericDateAt,
  objectAt,
  partyUriAt,
  tokenAt,
  type Fail,
} from './claims.js';
import { signJwt, verifyJwt, type VerifyOptions } from './jws.js';
import { readPayloadHeader } from './payload.js';

export const TRANSFER_ENVELOPE_TYP = 'hdx-transfer+jwt';

export interface TransferEnvelopeClaims {
  /** The gateway's URI. */
  iss: string;
  /** The insurer's URI. */
  aud: string;
  /** The patient's pseudonym for this insurer. */
  sub: string;
  /** The transfer id. */
  jti: string;
  iat: number;
  hdx: {
    /** The consent id. */
    consent: string;
    purpose: string;
    categories: string[];
    /** The submitting hospital's URI. */
    hospital: string;
    /** The submission id. */
    submission: string;
    /** RFC 3339. */
    submittedAt: string;
    submissionDigest: string;
    /** `digestOf(jwe)` of the payload JWE (compact serialisation). */
    payloadDigest: string;
    /** The `kid` in the payload JWE's header. */
    payloadKid: string;
  };
}

export interface VerifyTransferEnvelopeOptions extends VerifyOptions {
  /** The payload JWE that came with the envelope. */
  payload: string;
}

/** `digestOf(jwe)`: what `hdx.payloadDigest` must be. */
export function payloadDigestOf(jwe: string): string {
  return digestOf(jwe);
}

/** Signs an envelope with the gateway's private JWK; `iat` defaults to now. */
export async function signTransferEnvelope(
  claims: Omit<TransferEnvelopeClaims, 'iat'> & { iat?: number },
  privateJwk: JWK,
): Promise<string> {
  const checked = transferEnvelopeClaims({ ...claims, iat: claims?.iat ?? nowSeconds() }, misuse);
  return signJwt({ ...checked }, privateJwk, TRANSFER_ENVELOPE_TYP);
}

/**
 * Verifies an envelope against the gateway's JWKS, for `options.audience` (the insurer's URI), and checks
 * that the JWE beside it is the one it names. Throws `VerificationError`.
 */
export async function verifyTransferEnvelope(
  jws: string,
  gatewayJwks: JSONWebKeySet,
  options: VerifyTransferEnvelopeOptions,
): Promise<TransferEnvelopeClaims> {
  if (typeof options?.payload !== 'string') throw new TypeError('options.payload (the JWE) is required');
  const { payload } = await verifyJwt(jws, gatewayJwks, TRANSFER_ENVELOPE_TYP, options);
  const claims = transferEnvelopeClaims(payload, malformed);
  verifyPayloadDigest(claims, options.payload);
  return claims;
}

/**
 * Verifies an envelope's signature and claims without the JWE beside it: for evidence kept after the
 * ciphertext was deleted. The caller must then check `hdx.payloadDigest` against what it trusts (e.g.
 * the digest logged when the transfer was created). Throws `VerificationError`.
 */
export async function verifyTransferEnvelopeSignature(
  jws: string,
  gatewayJwks: JSONWebKeySet,
  options: VerifyOptions,
): Promise<TransferEnvelopeClaims> {
  const { payload } = await verifyJwt(jws, gatewayJwks, TRANSFER_ENVELOPE_TYP, options);
  return transferEnvelopeClaims(payload, malformed);
}

function verifyPayloadDigest(claims: TransferEnvelopeClaims, jwe: string): void {
  if (payloadDigestOf(jwe) !== claims.hdx.payloadDigest) {
    throw new VerificationError('ERR_DIGEST', 'payload does not match the envelope');
  }
  let kid: string;
  try {
    kid = readPayloadHeader(jwe).kid;
  } catch (cause) {
    throw new VerificationError('ERR_MALFORMED', 'payload header is invalid', { cause });
  }
  if (kid !== claims.hdx.payloadKid) throw new VerificationError('ERR_DIGEST', 'payload key id does not match the envelope');
}

function transferEnvelopeClaims(value: unknown, fail: Fail): TransferEnvelopeClaims {
  const c = objectAt(value, 'claims', fail);
  const hdx = objectAt(c['hdx'], 'hdx', fail);
  return {
    iss: partyUriAt(c['iss'], 'iss', 'gateway', fail),
    aud: partyUriAt(c['aud'], 'aud', 'insurer', fail),
    sub: tokenAt(c['sub'], 'sub', fail),
    jti: tokenAt(c['jti'], 'jti', fail),
    iat: numericDateAt(c['iat'], 'iat', fail),
    hdx: {
      consent: tokenAt(hdx['consent'], 'hdx.consent', fail),
      purpose: codeAt(hdx['purpose'], 'hdx.purpose', fail),
      categories: codesAt(hdx['categories'], 'hdx.categories', fail),
      hospital: partyUriAt(hdx['hospital'], 'hdx.hospital', 'hospital', fail),
      submission: tokenAt(hdx['submission'], 'hdx.submission', fail),
      submittedAt: instantStringAt(hdx['submittedAt'], 'hdx.submittedAt', fail),
      submissionDigest: digestAt(hdx['submissionDigest'], 'hdx.submissionDigest', fail),
      payloadDigest: digestAt(hdx['payloadDigest'], 'hdx.payloadDigest', fail),
      payloadKid: tokenAt(hdx['payloadKid'], 'hdx.payloadKid', fail),
    },
  };
}
