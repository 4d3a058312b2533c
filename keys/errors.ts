/**
 * The trust layer's errors, one module of the project's taxonomy (`coded-error.ts`), in the style of
 * panva/jose: one base class with a closed `code` union, subclasses that set only `code`. Caller misuse (a wrong argument type, an option out of range)
 * is a plain `TypeError`; these classes are for untrusted input (a registry file, a certificate, a token)
 * and for state on disk. Messages are safe to log: they name the field or the check, never a value,
 * an identifier or key material. The underlying error, if any, is kept as `cause`.
 */
import { CodedError } from './coded-error.js';

/** Why a signed or encrypted object was refused. */
export const VERIFICATION_ERROR_CODES = [
  'ERR_MALFORMED', // not a well-formed token, or its claims do not match the schema
  'ERR_ALG', // algorithm not allowed (only ES256 and EdDSA sign; only A256GCM encrypts)
  'ERR_TYP', // wrong `typ` header: a token of another format
  'ERR_KEY', // no trusted key matches the token's key id
  'ERR_SIGNATURE', // the signature does not verify
  'ERR_ISSUER', // unexpected issuer
  'ERR_AUDIENCE', // not addressed to the verifier
  'ERR_EXPIRED', // too old, or `exp` passed
  'ERR_NOT_YET_VALID', // issued in the future, or `nbf` not reached
  'ERR_DIGEST', // a digest in the claims does not match the object it names
  'ERR_DECRYPT', // the JWE does not decrypt with the given key
] as const;
export type VerificationErrorCode = (typeof VERIFICATION_ERROR_CODES)[number];

export const KEYS_ERROR_CODES = [
  'ERR_KEYS',
  'ERR_PARTY_URI',
  'ERR_REGISTRY',
  'ERR_JWK',
  'ERR_UNKNOWN_PARTY',
  'ERR_NO_VALID_KEY',
  'ERR_CERTIFICATE',
  'ERR_EXCHANGE_EXISTS',
  'ERR_EXCHANGE_INVALID',
  'ERR_EXCHANGE_BUSY',
  'ERR_VERIFICATION',
  ...VERIFICATION_ERROR_CODES,
] as const;
export type KeysErrorCode = (typeof KEYS_ERROR_CODES)[number];

export class KeysError extends CodedError<KeysErrorCode> {
  static override code: KeysErrorCode = 'ERR_KEYS';
  constructor(message: string, options?: { cause?: unknown }) {
    super((new.target as typeof KeysError).code, message, options);
  }
}

/** A string that should be a party URI (`spiffe://<trust domain>/<role>/<id>`) is not one. */
export class InvalidPartyUri extends KeysError {
  static override code = 'ERR_PARTY_URI' as const;
}

/** The party registry is malformed or inconsistent. */
export class InvalidRegistry extends KeysError {
  static override code = 'ERR_REGISTRY' as const;
}

/** A JWK is malformed, of an unsupported type, or private where a public key is expected. */
export class InvalidKey extends KeysError {
  static override code = 'ERR_JWK' as const;
}

/** The registry has no party with that id or URI. */
export class UnknownParty extends KeysError {
  static override code = 'ERR_UNKNOWN_PARTY' as const;
}

/** The party has no key of the requested use that is valid at the requested time. */
export class NoValidKey extends KeysError {
  static override code = 'ERR_NO_VALID_KEY' as const;
}

/** A peer certificate does not carry exactly one usable identity. */
export class CertificateError extends KeysError {
  static override code = 'ERR_CERTIFICATE' as const;
}

/** `initExchange` or `issueParty` would overwrite something that exists. */
export class ExchangeExists extends KeysError {
  static override code = 'ERR_EXCHANGE_EXISTS' as const;
}

/** A file of an exchange directory is missing or malformed. */
export class InvalidExchange extends KeysError {
  static override code = 'ERR_EXCHANGE_INVALID' as const;
}

/** Another process holds the exchange's registry lock. */
export class ExchangeBusy extends KeysError {
  static override code = 'ERR_EXCHANGE_BUSY' as const;
}

/** A signed or encrypted object was refused; `code` says which check failed. */
export class VerificationError extends KeysError {
  static override code = 'ERR_VERIFICATION' as const;
  override code: VerificationErrorCode;
  constructor(code: VerificationErrorCode, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.code = code;
  }
}
