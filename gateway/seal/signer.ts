/**
 * The gateway's signing identity: consent receipts and transfer envelopes, signed with its current
 * ES256 key. Only public keys ever leave this object (the directory's JWKS).
 */
import type { JSONWebKeySet, JWK } from 'jose';
import { signConsentReceipt } from '../../keys/formats/receipt.js';

export interface GatewaySigner {
  /** The gateway's party URI: the `iss` of everything it signs. */
  readonly uri: string;
  readonly privateJwk: JWK;
  signConsentReceipt(input: {
    consentId: string;
    audience: string;
    action: 'granted' | 'revoked';
    termsDigest: string;
    at: Date;
  }): Promise<string>;
  publicJwks(): JSONWebKeySet;
}

/** `published`: the keys verifiers should hold now, asked each time (a rotation's old key stays until its grace ends). */
export function createSigner(uri: string, privateJwk: JWK, published: () => JSONWebKeySet): GatewaySigner {
  return {
    uri,
    privateJwk,
    signConsentReceipt: (input) =>
      signConsentReceipt(
        {
          iss: uri,
          aud: input.audience,
          jti: input.consentId,
          hdx: { action: input.action, termsDigest: input.termsDigest, at: input.at.toISOString() },
        },
        privateJwk,
      ),
    publicJwks: published,
  };
}
