export {
  TransparencyError,
  ProofError,
  NoteMalformedError,
  NoteSignatureError,
  NoteUnverifiedError,
  KeyMalformedError,
  CheckpointMalformedError,
  OriginMismatchError,
} from './errors.js';
export type { TransparencyErrorCode, ProofFailure } from './errors.js';
export {
  HASH_SIZE,
  LEAF_PREFIX,
  NODE_PREFIX,
  emptyRoot,
  leafHash,
  nodeHash,
  eventLeafHash,
  rootFromLeaves,
} from './merkle.js';
export { rootFromInclusionProof, verifyInclusion, verifyConsistency } from './proof-verify.js';
export { rootAt, inclusionProof, consistencyProof } from './proof-build.js';
export type { SubtreeSource } from './proof-build.js';
export { MemorySubtreeSource } from './memory-source.js';
export {
  ED25519_SIGNATURE_TYPE,
  SIGNER_KEY_PREFIX,
  isValidKeyName,
  ed25519KeyId,
  formatVerifierKey,
  createNoteSigner,
  createNoteVerifier,
  parseVerifierKey,
  parseSignerKey,
  generateNoteKey,
} from './note-keys.js';
export type { NoteSigner, NoteVerifier } from './note-keys.js';
export { NOTE_SIGNATURE_PREFIX, MAX_NOTE_BYTES, MAX_NOTE_SIGNATURES, signNote, openNote } from './note.js';
export type { NoteSignature, OpenedNote } from './note.js';
export { HDX_AUDIT_ORIGIN, formatCheckpoint, parseCheckpoint, signCheckpoint, verifyCheckpoint } from './checkpoint.js';
export type { Checkpoint, CheckpointInput } from './checkpoint.js';
