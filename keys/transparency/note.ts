/**
 * C2SP signed notes (https://c2sp.org/signed-note): a UTF-8 text ending in a newline, a blank line,
 * then one or more lines `— <key name> base64(uint32 key ID || signature)`.
 *
 * Opening a note (untrusted input) goes through named steps: decode → split → parse signature lines
 * → verify the ones by known keys. Signatures by unknown keys (name or ID differs) are ignored; a
 * known key's signature that fails rejects the whole note; at least one must verify.
 */
import { NoteMalformedError, NoteSignatureError, NoteUnverifiedError } from './errors.js';
import { decodeBase64Strict, decodeUtf8Strict, isBytes, isCleanText } from './encoding.js';
import { isValidKeyName, type NoteSigner, type NoteVerifier } from './note-keys.js';

/** Em dash (U+2014) and a space: the start of every signature line. */
export const NOTE_SIGNATURE_PREFIX = '\u2014 ';
/** Upper bounds on what we parse (the spec requires accepting at least 16 signatures). */
export const MAX_NOTE_BYTES = 1_000_000;
export const MAX_NOTE_SIGNATURES = 100;
const KEY_ID_BYTES = 4;

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: number;
  /** The signature bytes, without the 4-byte key ID. */
  readonly signature: Buffer;
}

/** A note whose signatures have been checked. Only `text` signed by `verified` keys may be trusted. */
export interface OpenedNote {
  /** The signed text, including its final newline. */
  readonly text: string;
  /** Signatures by known keys, all valid (one per key). */
  readonly verified: readonly NoteSignature[];
  /** Signatures by keys not in the verifier list (not checked; duplicates dropped). */
  readonly unverified: readonly NoteSignature[];
}

function asList<T>(value: T | readonly T[]): readonly T[] {
  return Array.isArray(value) ? (value as readonly T[]) : [value as T];
}

const keyOf = (name: string, keyId: number): string => `${keyId.toString(16).padStart(8, '0')}+${name}`;

/** Signs `text` (which must end in a newline) with each signer; returns the complete note. */
export function signNote(text: string, signers: NoteSigner | readonly NoteSigner[]): string {
  if (typeof text !== 'string' || !text.endsWith('\n') || !isCleanText(text)) {
    throw new TypeError('note text must be well-formed text ending in a newline, without control characters');
  }
  const bytes = Buffer.from(text, 'utf8');
  if (bytes.length > MAX_NOTE_BYTES) throw new TypeError('note text is too large');
  const list = asList(signers);
  if (list.length === 0) throw new TypeError('at least one signer is required');
  const lines = list.map((signer) => {
    if (!isValidKeyName(signer.name)) throw new TypeError('signer name is not a valid key name');
    if (!Number.isInteger(signer.keyId) || signer.keyId < 0 || signer.keyId > 0xffffffff) {
      throw new TypeError('signer key ID must be a uint32');
    }
    const id = Buffer.alloc(KEY_ID_BYTES);
    id.writeUInt32BE(signer.keyId);
    const sig = Buffer.concat([id, signer.sign(bytes)]).toString('base64');
    return `${NOTE_SIGNATURE_PREFIX}${signer.name} ${sig}\n`;
  });
  return `${text}\n${lines.join('')}`;
}

/** Step 1: the note as text, if it is well-formed UTF-8 within the size limit. */
function decodeNote(note: Uint8Array | string): string {
  let text: string | undefined;
  if (typeof note === 'string') {
    if (note.length > MAX_NOTE_BYTES) throw new NoteMalformedError('note is too large');
    text = note;
  } else if (isBytes(note)) {
    if (note.length > MAX_NOTE_BYTES) throw new NoteMalformedError('note is too large');
    text = decodeUtf8Strict(note);
    if (text === undefined) throw new NoteMalformedError('note is not valid UTF-8');
  } else {
    throw new TypeError('note must be a string or a Uint8Array');
  }
  if (!isCleanText(text)) throw new NoteMalformedError('note contains control characters or invalid Unicode');
  if (Buffer.byteLength(text, 'utf8') > MAX_NOTE_BYTES) throw new NoteMalformedError('note is too large');
  return text;
}

/** Step 2–3: split at the last blank line and parse every signature line. */
function splitNote(note: string): { text: string; signatures: NoteSignature[] } {
  const split = note.lastIndexOf('\n\n');
  if (split < 0) throw new NoteMalformedError('note has no blank line before its signatures');
  const text = note.slice(0, split + 1);
  const block = note.slice(split + 2);
  if (block.length === 0 || !block.endsWith('\n')) {
    throw new NoteMalformedError('note signature block is empty or does not end in a newline');
  }
  const lines = block.slice(0, -1).split('\n');
  if (lines.length > MAX_NOTE_SIGNATURES) throw new NoteMalformedError('note has too many signatures');
  const signatures = lines.map((line, i) => {
    if (!line.startsWith(NOTE_SIGNATURE_PREFIX)) {
      throw new NoteMalformedError(`note signature line ${i + 1} does not start with an em dash and a space`);
    }
    const rest = line.slice(NOTE_SIGNATURE_PREFIX.length);
    const space = rest.indexOf(' ');
    const name = space < 0 ? '' : rest.slice(0, space);
    const b64 = space < 0 ? '' : rest.slice(space + 1);
    if (!isValidKeyName(name)) throw new NoteMalformedError(`note signature line ${i + 1} has an invalid key name`);
    const data = decodeBase64Strict(b64);
    if (data === undefined || data.length <= KEY_ID_BYTES) {
      throw new NoteMalformedError(`note signature line ${i + 1} is not a base64 key ID and signature`);
    }
    return { name, keyId: data.readUInt32BE(0), signature: data.subarray(KEY_ID_BYTES) };
  });
  return { text, signatures };
}

function verifierMap(verifiers: NoteVerifier | readonly NoteVerifier[]): Map<string, NoteVerifier> {
  const map = new Map<string, NoteVerifier>();
  for (const v of asList(verifiers)) {
    if (!isValidKeyName(v?.name) || !Number.isInteger(v.keyId) || typeof v.verify !== 'function') {
      throw new TypeError('verifiers must be NoteVerifier objects with a valid name and key ID');
    }
    const key = keyOf(v.name, v.keyId);
    if (map.has(key)) throw new TypeError('two verifiers share a key name and key ID');
    map.set(key, v);
  }
  if (map.size === 0) throw new TypeError('at least one verifier is required');
  return map;
}

/**
 * Parses a signed note and checks its signatures against the known verifiers. Throws
 * `NoteMalformedError`, `NoteSignatureError` (a known key's signature is invalid) or
 * `NoteUnverifiedError` (no known key signed it).
 */
export function openNote(note: Uint8Array | string, verifiers: NoteVerifier | readonly NoteVerifier[]): OpenedNote {
  const known = verifierMap(verifiers);
  const { text, signatures } = splitNote(decodeNote(note));
  const message = Buffer.from(text, 'utf8');

  const verified: NoteSignature[] = [];
  const unverified: NoteSignature[] = [];
  const seenKnown = new Set<string>();
  const seenUnknown = new Set<string>();
  for (const sig of signatures) {
    const key = keyOf(sig.name, sig.keyId);
    const verifier = known.get(key);
    if (verifier === undefined) {
      const line = `${key} ${sig.signature.toString('base64')}`;
      if (!seenUnknown.has(line)) unverified.push(sig);
      seenUnknown.add(line);
      continue;
    }
    if (seenKnown.has(key)) continue; // one signature per known key is checked; repeats are dropped
    seenKnown.add(key);
    if (!verifier.verify(message, sig.signature)) {
      throw new NoteSignatureError('note signature by a known key does not verify');
    }
    verified.push(sig);
  }
  if (verified.length === 0) throw new NoteUnverifiedError('note is not signed by any known key');
  return { text, verified, unverified };
}
