/**
 * Internal: validators shared by the signed formats' claim schemas. Each takes a `fail` so the same
 * schema serves the signer (caller misuse → TypeError) and the verifier (untrusted → ERR_MALFORMED).
 * Validators return only the members they know: unknown members of a verified token are dropped.
 */
import { VerificationError } from '../errors.js';
import { parsePartyUri, type Role } from '../identity.js';
import { isPlainObject, isInstant, type Fail } from '../json-guard.js';

export type { Fail };

export const malformed: Fail = (message, cause) =>
  new VerificationError('ERR_MALFORMED', message, cause === undefined ? undefined : { cause });

export const misuse: Fail = (message, cause) => new TypeError(message, cause === undefined ? undefined : { cause });

const DIGEST = /^sha256:[A-Za-z0-9_-]{43}$/;
const TOKEN = /^[\x21-\x7e]{1,200}$/;
const CODE = /^[A-Za-z0-9_.-]{1,64}$/;
const MAX_CATEGORIES = 64;

export function objectAt(value: unknown, path: string, fail: Fail): Record<string, unknown> {
  if (!isPlainObject(value)) throw fail(`${path} must be an object`);
  return value;
}

/** A party URI with the given role. */
export function partyUriAt(value: unknown, path: string, role: Role, fail: Fail): string {
  if (typeof value !== 'string') throw fail(`${path} must be a party URI`);
  try {
    if (parsePartyUri(value).role !== role) throw fail(`${path} must name a party of role ${role}`);
  } catch (cause) {
    if (cause instanceof VerificationError || cause instanceof TypeError) throw cause;
    throw fail(`${path} must be a party URI`, cause);
  }
  return value;
}

/** `sha256:` and 43 base64url characters (see `digestOf`). */
export function digestAt(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== 'string' || !DIGEST.test(value)) throw fail(`${path} must be a sha256 digest`);
  return value;
}

/** An opaque identifier: 1 to 200 visible ASCII characters. */
export function tokenAt(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== 'string' || !TOKEN.test(value)) throw fail(`${path} must be an identifier`);
  return value;
}

/** A short code such as a purpose or a data category: `[A-Za-z0-9_.-]{1,64}`. */
export function codeAt(value: unknown, path: string, fail: Fail): string {
  if (typeof value !== 'string' || !CODE.test(value)) throw fail(`${path} must be a code`);
  return value;
}

export function codesAt(value: unknown, path: string, fail: Fail): string[] {
  if (!Array.isArray(value) || value.length === 0 || value.length > MAX_CATEGORIES) {
    throw fail(`${path} must be a non-empty array`);
  }
  const codes = value.map((v, i) => codeAt(v, `${path}[${i}]`, fail));
  if (new Set(codes).size !== codes.length) throw fail(`${path} has duplicates`);
  return codes;
}

export function instantStringAt(value: unknown, path: string, fail: Fail): string {
  if (!isInstant(value)) throw fail(`${path} must be an RFC 3339 date-time`);
  return value;
}

/** NumericDate (seconds), a non-negative integer. */
export function numericDateAt(value: unknown, path: string, fail: Fail): number {
  if (typeof value !== 'number' || !Number.isSafeInteger(value) || value < 0) throw fail(`${path} must be a NumericDate`);
  return value;
}

export function oneOf<T extends string>(value: unknown, path: string, allowed: readonly T[], fail: Fail): T {
  if (typeof value !== 'string' || !(allowed as readonly string[]).includes(value)) throw fail(`${path} is not allowed`);
  return value as T;
}

export function nowSeconds(): number {
  return Math.floor(Date.now() / 1000);
}
