/** Inclusion proofs as self-contained files that verify offline with only the log's public key. */
import { readFileSync } from 'node:fs';
import {
  leafHash,
  parseVerifierKey,
  verifyCheckpoint,
  verifyInclusion,
} from '../keys/transparency/index.js';
import { unaryCall } from '../proto/connect.js';
import { logOriginOf } from './session.js';
import type { ComplianceSession } from './session.js';

export const PROOF_FORMAT = 'hdx-inclusion-proof/v1';

export interface InclusionProofFile {
  format: typeof PROOF_FORMAT;
  origin: string;
  checkpoint: string;
  logVerifierKey: string;
  seq: number;
  treeSize: number;
  event: string;
  proof: string[];
}

export async function proveEvent(session: ComplianceSession, seq: number): Promise<InclusionProofFile> {
  const { checkpoint: note } = await unaryCall(session.clients.audit, session.clients.audit.getCheckpoint, {});
  const cp = verifyCheckpoint(note, session.verifier, session.origin);
  if (!(seq >= 0 && seq < cp.size)) throw new Error(`seq must be below the log size ${cp.size}`);
  const response = await unaryCall(session.clients.audit, session.clients.audit.getInclusionProof, { seq, treeSize: cp.size });
  const event = response.event?.eventJson ?? '';
  const proof = response.proof.map((p) => Buffer.from(p));
  verifyInclusion(seq, cp.size, leafHash(Buffer.from(event, 'utf8')), proof, cp.rootHash);
  return {
    format: PROOF_FORMAT,
    origin: cp.origin,
    checkpoint: note,
    logVerifierKey: session.verifierKey,
    seq,
    treeSize: cp.size,
    event,
    proof: proof.map((p) => p.toString('base64')),
  };
}

/**
 * Verifies a proof file. The log key should come from the checker (`--log-key`); the key inside the
 * file is used only when none is given, and the result says so.
 */
export function checkInclusionProofFile(path: string, verifierKey?: string): { ok: boolean; message: string } {
  try {
    const file = JSON.parse(readFileSync(path, 'utf8')) as InclusionProofFile;
    if (file.format !== PROOF_FORMAT) throw new Error('not an hdx inclusion proof');
    const verifier = parseVerifierKey(verifierKey ?? file.logVerifierKey);
    const cp = verifyCheckpoint(file.checkpoint, verifier, file.origin ?? logOriginOf('hdx.local'));
    if (cp.size !== file.treeSize) throw new Error('the proof is for another tree size than its checkpoint');
    verifyInclusion(
      file.seq,
      cp.size,
      leafHash(Buffer.from(file.event, 'utf8')),
      file.proof.map((p) => Buffer.from(p, 'base64')),
      cp.rootHash,
    );
    const trust = verifierKey ? 'the given log key' : 'the key inside the file (pass --log-key to check against yours)';
    return { ok: true, message: `event ${file.seq} is in the log of size ${cp.size} signed by ${trust}` };
  } catch (error) {
    return { ok: false, message: (error as Error).message };
  }
}
