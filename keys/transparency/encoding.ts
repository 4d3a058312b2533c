/**
 * Strict text encodings shared by the note, key and checkpoint parsers. Internal: not re-exported.
 *
 * Node's `Buffer.from(s, 'base64')` silently skips invalid characters and accepts missing padding,
 * so it cannot be used on untrusted input by itself: we check the alphabet and padding first and
 * then require the decoded bytes to re-encode to exactly the same text (canonical encoding).
 */

const BASE64_STD = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Decodes standard (RFC 4648 §4) padded base64, or returns undefined if it is not canonical. */
export function decodeBase64Strict(text: string): Buffer | undefined {
  if (!BASE64_STD.test(text)) return undefined;
  const bytes = Buffer.from(text, 'base64');
  return bytes.toString('base64') === text ? bytes : undefined;
}

/** ASCII control characters other than newline (signed-note forbids them everywhere). */
const FORBIDDEN_CONTROL = /[\u0000-\u0009\u000b-\u001f]/;
/** A UTF-16 surrogate that is not part of a pair (cannot be encoded as UTF-8). */
const LONE_SURROGATE = /\p{Surrogate}/u;

/** True if the string is well-formed Unicode without ASCII control characters other than `\n`. */
export function isCleanText(text: string): boolean {
  return !FORBIDDEN_CONTROL.test(text) && !LONE_SURROGATE.test(text);
}

const utf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** Decodes UTF-8 exactly (a BOM is kept as text), or returns undefined if the bytes are not UTF-8. */
export function decodeUtf8Strict(bytes: Uint8Array): string | undefined {
  try {
    return utf8.decode(bytes);
  } catch {
    return undefined;
  }
}

/** A non-negative integer that a JavaScript number represents exactly. */
export function isUint(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= 0;
}

export function isBytes(value: unknown): value is Uint8Array {
  return value instanceof Uint8Array;
}
