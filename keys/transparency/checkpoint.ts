/**
 * C2SP transparency-log checkpoints (https://c2sp.org/tlog-checkpoint): the note text
 *
 *   <origin>\n<tree size, decimal, no leading zeros>\n<base64 root hash>\n[<extension line>\n]*
 *
 * signed as a signed note. hdx's audit log signs with an Ed25519 key whose name is its origin.
 */
import { CheckpointMalformedError, OriginMismatchError } from './errors.js';
import { decodeBase64Strict, isBytes, isCleanText, isUint } from './encoding.js';
import { HASH_SIZE } from './merkle.js';
import type { NoteSigner, NoteVerifier } from './note-keys.js';
import { MAX_NOTE_BYTES, openNote, signNote } from './note.js';

/** The origin line of hdx's audit log checkpoints. */
export const HDX_AUDIT_ORIGIN = 'hdx.local/audit/v1';
const DECIMAL = /^(?:0|[1-9][0-9]*)$/;

export interface Checkpoint {
  readonly origin: string;
  readonly size: number;
  readonly rootHash: Buffer;
  /** Opaque extension lines (not recommended by the spec; hdx writes none). */
  readonly extensions: readonly string[];
}

export interface CheckpointInput {
  origin: string;
  size: number;
  rootHash: Uint8Array;
  extensions?: readonly string[];
}

const isLine = (s: unknown): s is string => typeof s === 'string' && s.length > 0 && !s.includes('\n') && isCleanText(s);

/** The checkpoint's note text (ending in a newline). Throws `TypeError` on invalid fields. */
export function formatCheckpoint(cp: CheckpointInput): string {
  const { origin, size, rootHash, extensions = [] } = cp;
  if (!isLine(origin)) throw new TypeError('origin must be a non-empty line of text');
  if (!isUint(size)) throw new TypeError('size must be a non-negative safe integer');
  if (!isBytes(rootHash) || rootHash.length !== HASH_SIZE) throw new TypeError('rootHash must be 32 bytes');
  if (!Array.isArray(extensions) || !extensions.every(isLine)) {
    throw new TypeError('extensions must be non-empty lines of text');
  }
  const lines = [origin, String(size), Buffer.from(rootHash).toString('base64'), ...extensions];
  return `${lines.join('\n')}\n`;
}

/** Parses a checkpoint body strictly. Throws `CheckpointMalformedError`. */
export function parseCheckpoint(text: string): Checkpoint {
  if (typeof text !== 'string') throw new TypeError('checkpoint text must be a string');
  if (text.length > MAX_NOTE_BYTES || !isCleanText(text)) {
    throw new CheckpointMalformedError('checkpoint is too large or contains control characters');
  }
  if (!text.endsWith('\n')) throw new CheckpointMalformedError('checkpoint does not end in a newline');
  const lines = text.slice(0, -1).split('\n');
  if (lines.length < 3) throw new CheckpointMalformedError('checkpoint has fewer than three lines');
  if (lines.some((line) => line.length === 0)) throw new CheckpointMalformedError('checkpoint has an empty line');
  const [origin, sizeText, rootText, ...extensions] = lines as [string, string, string, ...string[]];

  if (!DECIMAL.test(sizeText)) throw new CheckpointMalformedError('checkpoint tree size is not a decimal number');
  const size = Number(sizeText);
  if (!Number.isSafeInteger(size)) throw new CheckpointMalformedError('checkpoint tree size is too large');

  const rootHash = decodeBase64Strict(rootText);
  if (rootHash === undefined || rootHash.length !== HASH_SIZE) {
    throw new CheckpointMalformedError('checkpoint root hash is not a base64 32-byte hash');
  }
  return { origin, size, rootHash, extensions };
}

/** Signs a checkpoint: returns the signed note text. */
export function signCheckpoint(cp: CheckpointInput, signers: NoteSigner | readonly NoteSigner[]): string {
  return signNote(formatCheckpoint(cp), signers);
}

/**
 * Opens a signed checkpoint: verify the note signature, then parse the body, then check the origin.
 * Throws the note errors, `CheckpointMalformedError` or `OriginMismatchError`.
 */
export function verifyCheckpoint(
  note: string | Uint8Array,
  verifiers: NoteVerifier | readonly NoteVerifier[],
  expectedOrigin: string = HDX_AUDIT_ORIGIN,
): Checkpoint {
  if (!isLine(expectedOrigin)) throw new TypeError('expectedOrigin must be a non-empty line of text');
  const { text } = openNote(note, verifiers);
  const checkpoint = parseCheckpoint(text);
  if (checkpoint.origin !== expectedOrigin) {
    throw new OriginMismatchError('checkpoint is from another log than the one expected');
  }
  return checkpoint;
}
