/**
 * One refusal for every signed object a party sends (the hospital's submission signature, the insurer's
 * receipt and decision): it names the check that failed — `kid`, `typ`, `aud`, `iat`, `digest`, `purpose`
 * … — so an integrator on another stack can tell a wrong key from a wrong audience, and it never echoes
 * content: `VerificationError` messages name the check or the field, never a value.
 */
import { VerificationError, type VerificationErrorCode } from '../keys/errors.js';
import { InvalidInput } from './errors.js';

/** The check each verification code stands for, as it appears in the message. */
const CHECK: Record<VerificationErrorCode, string> = {
  ERR_MALFORMED: 'format',
  ERR_ALG: 'alg',
  ERR_TYP: 'typ',
  ERR_KEY: 'kid',
  ERR_SIGNATURE: 'signature',
  ERR_ISSUER: 'iss',
  ERR_AUDIENCE: 'aud',
  ERR_EXPIRED: 'exp',
  ERR_NOT_YET_VALID: 'iat',
  ERR_DIGEST: 'digest',
  ERR_DECRYPT: 'decrypt',
};

/** A check made on verified claims against the request: which request value they must match. */
export type BindingCheck = 'digest' | 'purpose' | 'jti';

/** The refusal of `subject` ("signature", "receipt", "decision") for a failed check; `reason` says what failed. */
export function signedRefusal(subject: string, check: BindingCheck | string, reason: string, cause?: unknown): InvalidInput {
  return new InvalidInput(`${subject} does not verify (${check}): ${reason}`, cause === undefined ? undefined : { cause });
}

/** Verification failures become the refusal; anything else (our fault) goes on unchanged. */
export function refusalOf(subject: string, error: unknown): unknown {
  if (!(error instanceof VerificationError)) return error;
  return signedRefusal(subject, CHECK[error.code], error.message, error);
}

/** Runs `verify`, turning a verification failure into the refusal. */
export async function verifiedOrRefused<T>(subject: string, verify: () => Promise<T>): Promise<T> {
  try {
    return await verify();
  } catch (error) {
    throw refusalOf(subject, error);
  }
}
