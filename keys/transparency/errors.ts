/**
 * Errors for the transparency-log primitives, one module of the project's taxonomy (`../coded-error.ts`),
 * in the style of panva/jose: one base class with a closed `code` union, subclasses that set only `code`.
 *
 * Untrusted input (a proof, a note, a checkpoint, a key string from a file) that fails a check throws
 * one of these, with a message that is safe to log and show (it names the check, never echoes the
 * input). Caller misuse (wrong argument types, asking to build a proof for a size the tree does not
 * have) throws a plain `TypeError` instead.
 */
import { CodedError } from '../coded-error.js';

export const TRANSPARENCY_ERROR_CODES = [
  'ERR_TRANSPARENCY',
  'ERR_PROOF_INVALID',
  'ERR_NOTE_MALFORMED',
  'ERR_NOTE_SIGNATURE',
  'ERR_NOTE_UNVERIFIED',
  'ERR_KEY_MALFORMED',
  'ERR_CHECKPOINT_MALFORMED',
  'ERR_ORIGIN_MISMATCH',
] as const;
export type TransparencyErrorCode = (typeof TRANSPARENCY_ERROR_CODES)[number];

export class TransparencyError extends CodedError<TransparencyErrorCode> {
  static override code: TransparencyErrorCode = 'ERR_TRANSPARENCY';
  constructor(message: string, options?: { cause?: unknown }) {
    super((new.target as typeof TransparencyError).code, message, options);
    Error.captureStackTrace?.(this, new.target);
  }
}

/** Which check of a Merkle proof failed. */
export type ProofFailure =
  | 'index' // leaf index not a valid index into the tree
  | 'size' // tree size(s) invalid, or size1 > size2, or size1 == 0
  | 'hash-length' // a hash, root or proof element is not exactly 32 bytes
  | 'proof-length' // too many or too few proof elements
  | 'root-mismatch' // inclusion: the computed root differs from the expected one
  | 'root1-mismatch' // consistency: the computed old root differs from root1
  | 'root2-mismatch'; // consistency: the computed new root differs from root2

/** A Merkle inclusion or consistency proof does not verify. `failure` names the failed check. */
export class ProofError extends TransparencyError {
  static override code = 'ERR_PROOF_INVALID' as const;
  readonly failure: ProofFailure;
  constructor(failure: ProofFailure, message: string, options?: { cause?: unknown }) {
    super(message, options);
    this.failure = failure;
  }
}

/** A signed note is not syntactically valid (encoding, separator, signature line). */
export class NoteMalformedError extends TransparencyError {
  static override code = 'ERR_NOTE_MALFORMED' as const;
}

/** A signature by a known key (name and key ID both match) failed to verify: the note is rejected. */
export class NoteSignatureError extends TransparencyError {
  static override code = 'ERR_NOTE_SIGNATURE' as const;
}

/** The note carries no signature by any known key. */
export class NoteUnverifiedError extends TransparencyError {
  static override code = 'ERR_NOTE_UNVERIFIED' as const;
}

/** A verifier or signer key string is malformed, or its key ID does not match its key. */
export class KeyMalformedError extends TransparencyError {
  static override code = 'ERR_KEY_MALFORMED' as const;
}

/** A checkpoint body is not a valid C2SP tlog-checkpoint. */
export class CheckpointMalformedError extends TransparencyError {
  static override code = 'ERR_CHECKPOINT_MALFORMED' as const;
}

/** A validly signed checkpoint belongs to another log than the one expected. */
export class OriginMismatchError extends TransparencyError {
  static override code = 'ERR_ORIGIN_MISMATCH' as const;
}
