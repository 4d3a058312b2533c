/**
 * Canonical base64url (RFC 7515 §2, RFC 4648 §5 without padding). Node's decoder is lenient: it skips
 * characters outside the alphabet, accepts padding and ignores non-zero trailing bits, so two different
 * strings decode to the same bytes. A token is identified by its text (digests over it are signed), so
 * only the one canonical spelling of any byte string is accepted.
 */
import { VerificationError } from '../errors.js';

const UTF8 = new TextDecoder('utf-8', { fatal: true });

export function encodeBase64url(bytes: Uint8Array | string): string {
  return (typeof bytes === 'string' ? Buffer.from(bytes, 'utf8') : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength)).toString(
    'base64url',
  );
}

/**
 * True if `text` is the canonical base64url spelling of some byte string: it is if re-encoding what it
 * decodes to gives it back (anything outside the alphabet, padding, a dangling character or non-zero
 * trailing bits would not come back). Cheaper than an alphabet regex on a 22 KB ciphertext (≈ 7 vs 65 µs).
 */
export function isCanonicalBase64url(text: string): boolean {
  return canonicalBytes(text) !== undefined;
}

/** Decodes canonical base64url; throws `VerificationError` ERR_MALFORMED naming `what` otherwise. */
export function decodeBase64url(text: string, what: string): Buffer {
  const bytes = canonicalBytes(text);
  if (!bytes) throw new VerificationError('ERR_MALFORMED', `${what} is not canonical base64url`);
  return bytes;
}

function canonicalBytes(text: string): Buffer | undefined {
  const bytes = Buffer.from(text, 'base64url');
  return bytes.toString('base64url') === text ? bytes : undefined;
}

/** Decodes a base64url JSON object (a protected header or claims set); throws ERR_MALFORMED. */
export function decodeJsonObject(text: string, what: string): Record<string, unknown> {
  return parseJsonObject(decodeBase64url(text, what), what);
}

/** Parses UTF-8 JSON that must be an object (a JWT claims set); throws ERR_MALFORMED. */
export function parseJsonObject(bytes: Uint8Array, what: string): Record<string, unknown> {
  let value: unknown;
  try {
    value = JSON.parse(UTF8.decode(bytes));
  } catch (cause) {
    throw new VerificationError('ERR_MALFORMED', `${what} is not UTF-8 JSON`, { cause });
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw new VerificationError('ERR_MALFORMED', `${what} is not a JSON object`);
  }
  return value as Record<string, unknown>;
}
