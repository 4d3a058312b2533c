/**
 * RFC 8785 (JCS) canonical JSON and the digests built on it. Every signed or hashed structure in hdx
 * (audit events, envelopes, receipts, decisions) is canonicalised here so that any party's stack,
 * in any language, recomputes the same bytes. We use the `canonicalize` package (the RFC author's
 * reference implementation) rather than hand-rolled key sorting: number formatting is the hard part.
 */
import { createHash } from 'node:crypto';
import canonicalizeModule from 'canonicalize';

// The package is CommonJS whose types declare an ES default export; under NodeNext the default import
// is the module object, so take the function from whichever shape arrives.
const canonicalizeJson = ((canonicalizeModule as unknown as { default?: unknown }).default ??
  canonicalizeModule) as (value: unknown) => string | undefined;

/** Canonical JSON text of a value; throws TypeError on values JSON cannot represent. */
export function canonicalJson(value: unknown): string {
  const text = canonicalizeJson(value);
  if (text === undefined) throw new TypeError('value has no canonical JSON form');
  return text;
}

export function canonicalBytes(value: unknown): Buffer {
  return Buffer.from(canonicalJson(value), 'utf8');
}

export function sha256(data: Uint8Array | string): Buffer {
  return createHash('sha256').update(data).digest();
}

/** `sha256:<base64url>` — the digest notation used in envelope claims and audit events. */
export function digestOf(data: Uint8Array | string): string {
  return `sha256:${sha256(data).toString('base64url')}`;
}

/** Digest of a JSON value's canonical form. */
export function digestOfJson(value: unknown): string {
  return digestOf(canonicalBytes(value));
}
