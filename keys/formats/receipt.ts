/**
 * Two receipts:
 * - the insurer's acknowledgement receipt (`hdx-receipt+jwt`): "I received the transfer whose envelope
 *   has this digest", signed by the insurer, addressed to the gateway;
 * - the gateway's consent receipt (`hdx-consent-receipt+jwt`): "I recorded this consent grant or
 *   revocation, on these terms", signed by the gateway, addressed to the hospital.
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { digestOf } from '../canonical.js';
import { VerificationError } from '../errors.js';
import {
  digestAt,
  instantStringAt,
  malformed,
  misuse,
  nowSeconds,
  numericDateAt,
  objectAt,
  oneOf,
  partyUriAt,
  tokenAt,
  type Fail,
} from './claims.js';
import { signJwt, verifyJwt, type VerifyOptions } from './jws.js';

export const RECEIPT_TYP = 'hdx-receipt+jwt';
export const CONSENT_RECEIPT_TYP = 'hdx-consent-receipt+jwt';

export interface ReceiptClaims {
  /** The insurer's URI. */
  iss: string;
  /** The gateway's URI. */
  aud: string;
  /** The transfer id. */
  jti: string;
  iat: number;
  hdx: {
    /** `digestOf(envelope JWS compact)`. */
    envelopeDigest: string;
    /** RFC 3339. */
    receivedAt: string;
  };
}

export type ConsentAction = 'granted' | 'revoked';

export interface ConsentReceiptClaims {
  /** The gateway's URI. */
  iss: string;
  /** The hospital's URI. */
  aud: string;
  /** The consent id. */
  jti: string;
  iat: number;
  hdx: {
    action: ConsentAction;
    /** Digest of the consent terms as the gateway recorded them. */
    termsDigest: string;
    /** RFC 3339: when the grant or revocation took effect. */
    at: string;
  };
}

export interface VerifyReceiptOptions extends VerifyOptions {
  /** If given, the receipt's `envelopeDigest` must be `digestOf(envelope)`. */
  envelope?: string;
}

export interface VerifyConsentReceiptOptions extends VerifyOptions {
  /** If given, the receipt's `termsDigest` must equal it. */
  termsDigest?: string;
}

/** `digestOf(jws)`: what a receipt's `hdx.envelopeDigest` must be. */
export function envelopeDigestOf(envelopeJws: string): string {
  return digestOf(envelopeJws);
}

export async function signReceipt(claims: Omit<ReceiptClaims, 'iat'> & { iat?: number }, privateJwk: JWK): Promise<string> {
  const checked = receiptClaims({ ...claims, iat: claims?.iat ?? nowSeconds() }, misuse);
  return signJwt({ ...checked }, privateJwk, RECEIPT_TYP);
}

/** Verifies an insurer's receipt against that insurer's JWKS, for `options.audience` (the gateway). */
export async function verifyReceipt(jws: string, insurerJwks: JSONWebKeySet, options: VerifyReceiptOptions): Promise<ReceiptClaims> {
  if (options?.envelope !== undefined && typeof options.envelope !== 'string') throw new TypeError('envelope must be a string');
  const { payload } = await verifyJwt(jws, insurerJwks, RECEIPT_TYP, options);
  const claims = receiptClaims(payload, malformed);
  if (options.envelope !== undefined && envelopeDigestOf(options.envelope) !== claims.hdx.envelopeDigest) {
    throw new VerificationError('ERR_DIGEST', 'receipt does not match the envelope');
  }
  return claims;
}

export async function signConsentReceipt(
  claims: Omit<ConsentReceiptClaims, 'iat'> & { iat?: number },
  privateJwk: JWK,
): Promise<string> {
  const checked = consentReceiptClaims({ ...claims, iat: claims?.iat ?? nowSeconds() }, misuse);
  return signJwt({ ...checked }, privateJwk, CONSENT_RECEIPT_TYP);
}

/** Verifies a consent receipt against the gateway's JWKS, for `options.audience` (the hospital). */
export async function verifyConsentReceipt(
  jws: string,
  gatewayJwks: JSONWebKeySet,
  options: VerifyConsentReceiptOptions,
): Promise<ConsentReceiptClaims> {
  if (options?.termsDigest !== undefined && typeof options.termsDigest !== 'string') {
    throw new TypeError('termsDigest must be a string');
  }
  const { payload } = await verifyJwt(jws, gatewayJwks, CONSENT_RECEIPT_TYP, options);
  const claims = consentReceiptClaims(payload, malformed);
  if (options.termsDigest !== undefined && options.termsDigest !== claims.hdx.termsDigest) {
    throw new VerificationError('ERR_DIGEST', 'consent receipt does not match the terms');
  }
  return claims;
}

function receiptClaims(value: unknown, fail: Fail): ReceiptClaims {
  const c = objectAt(value, 'claims', fail);
  const hdx = objectAt(c['hdx'], 'hdx', fail);
  return {
    iss: partyUriAt(c['iss'], 'iss', 'insurer', fail),
    aud: partyUriAt(c['aud'], 'aud', 'gateway', fail),
    jti: tokenAt(c['jti'], 'jti', fail),
    iat: numericDateAt(c['iat'], 'iat', fail),
    hdx: {
      envelopeDigest: digestAt(hdx['envelopeDigest'], 'hdx.envelopeDigest', fail),
      receivedAt: instantStringAt(hdx['receivedAt'], 'hdx.receivedAt', fail),
    },
  };
}

function consentReceiptClaims(value: unknown, fail: Fail): ConsentReceiptClaims {
  const c = objectAt(value, 'claims', fail);
  const hdx = objectAt(c['hdx'], 'hdx', fail);
  return {
    iss: partyUriAt(c['iss'], 'iss', 'gateway', fail),
    aud: partyUriAt(c['aud'], 'aud', 'hospital', fail),
    jti: tokenAt(c['jti'], 'jti', fail),
    iat: numericDateAt(c['iat'], 'iat', fail),
    hdx: {
      action: oneOf(hdx['action'], 'hdx.action', ['granted', 'revoked'] as const, fail),
      termsDigest: digestAt(hdx['termsDigest'], 'hdx.termsDigest', fail),
      at: instantStringAt(hdx['at'], 'hdx.at', fail),
    },
  };
}
