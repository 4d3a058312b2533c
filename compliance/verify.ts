/**
 * Verifying the audit log without trusting the gateway, as a short list of named steps:
 *   fetchCheckpoint → verifyCheckpointSignature → verifyConsistencyWithSaved → verifyEvents → saveState.
 * A full check of the events also compares the Merkle nodes the gateway stores (and serves proofs from)
 * with the ones the verified events give (`stored-tree.ts`).
 * The saved state (the last checkpoint this officer verified) lives in the officer's own folder; a log
 * that shrank, forked or was rewritten since then fails, naming the step.
 */
import { randomInt } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import {
  leafHash,
  verifyCheckpoint,
  verifyConsistency,
  verifyInclusion,
  type Checkpoint,
} from '../keys/transparency/index.js';
import { unaryCall } from '../proto/connect.js';
import type { AuditEvent } from '../proto/gen/hdx/v1/audit.js';
import { writeFileSync, renameSync } from 'node:fs';
import { ChainBreak } from './event-chain.js';
import { BLOCK, ParallelEventChain } from './parallel-chain.js';
import { packedEventPages, pageEvents } from './event-pages.js';
import { StoredTreeCheck } from './stored-tree.js';
import type { ComplianceSession } from './session.js';

export interface SavedState {
  origin: string;
  treeSize: number;
  rootHash: string;
  checkpoint: string;
  verifiedAt: string;
}

export interface VerifyReport {
  ok: boolean;
  origin: string;
  treeSize: number;
  rootHash: string;
  /** What was proved, in order, one line each. */
  proved: string[];
  /** The first failure, naming the step, if any. */
  failure?: string;
  /** For a broken hash chain: the first sequence number that does not link. */
  firstBreak?: number;
}

class StepFailure extends Error {
  constructor(readonly step: string, message: string, readonly firstBreak?: number, options?: { cause?: unknown }) {
    super(`${step}: ${message}`, options);
  }
}

/** The officer's saved state, checked as untrusted input (it is a file anyone with access could edit). */
export function readState(path: string): SavedState | undefined {
  if (!existsSync(path)) return undefined;
  let state: Partial<SavedState>;
  try {
    state = JSON.parse(readFileSync(path, 'utf8')) as Partial<SavedState>;
  } catch (cause) {
    throw new StepFailure('saved state', `${path} is not JSON`, undefined, { cause });
  }
  const root = typeof state?.rootHash === 'string' ? Buffer.from(state.rootHash, 'base64') : undefined;
  if (
    typeof state?.origin !== 'string' ||
    typeof state.treeSize !== 'number' ||
    !Number.isSafeInteger(state.treeSize) ||
    state.treeSize < 0 ||
    root?.length !== 32 ||
    root.toString('base64') !== state.rootHash
  ) {
    throw new StepFailure('saved state', `${path} is not a saved checkpoint`);
  }
  return state as SavedState;
}

function saveState(path: string, state: SavedState): void {
  mkdirSync(dirname(path), { recursive: true, mode: 0o700 });
  writeFileSync(`${path}.tmp`, JSON.stringify(state, null, 2), { mode: 0o600 });
  renameSync(`${path}.tmp`, path);
}

export async function verifyLog(
  session: ComplianceSession,
  options: {
    statePath: string;
    full?: boolean;
    sample?: number;
    onProgress?: (done: number, total: number) => void;
    /** Each page of events as it is checked (full verification only): the console keeps what it verified. */
    onEvents?: (page: readonly AuditEvent[]) => void;
  },
): Promise<VerifyReport> {
  const proved: string[] = [];
  let checkpoint: Checkpoint | undefined;
  let note = '';
  try {
    // 1. fetchCheckpoint
    const response = await unaryCall(session.clients.audit, session.clients.audit.getCheckpoint, {});
    note = response.checkpoint;
    // 2. verifyCheckpointSignature
    try {
      checkpoint = verifyCheckpoint(note, session.verifier, session.origin);
    } catch (error) {
      throw new StepFailure('checkpoint signature', (error as Error).message);
    }
    proved.push(`checkpoint for ${checkpoint.origin} at size ${checkpoint.size} is signed by the configured log key`);
    // 3. verifyConsistencyWithSaved
    proved.push(await verifyConsistencyWithSaved(session, checkpoint, readState(options.statePath)));
    // 4. verifyEvents
    proved.push(
      options.full === false
        ? await verifySample(session, checkpoint, options.sample ?? 32)
        : await verifyAllEvents(session, checkpoint, options.onProgress, options.onEvents),
    );
    // 5. saveState
    saveState(options.statePath, {
      origin: checkpoint.origin,
      treeSize: checkpoint.size,
      rootHash: checkpoint.rootHash.toString('base64'),
      checkpoint: note,
      verifiedAt: new Date().toISOString(),
    });
    return { ok: true, origin: checkpoint.origin, treeSize: checkpoint.size, rootHash: checkpoint.rootHash.toString('base64'), proved };
  } catch (error) {
    const failure = error instanceof StepFailure ? error : new StepFailure('fetch', (error as Error).message);
    return {
      ok: false,
      origin: checkpoint?.origin ?? session.origin,
      treeSize: checkpoint?.size ?? 0,
      rootHash: checkpoint?.rootHash.toString('base64') ?? '',
      proved,
      failure: failure.message,
      ...(failure.firstBreak !== undefined ? { firstBreak: failure.firstBreak } : {}),
    };
  }
}

async function verifyConsistencyWithSaved(session: ComplianceSession, cp: Checkpoint, saved: SavedState | undefined): Promise<string> {
  const step = 'consistency with the saved checkpoint';
  if (!saved) return 'no saved checkpoint yet: this one is now trusted as the starting point';
  if (saved.origin !== cp.origin) throw new StepFailure(step, 'the saved checkpoint is for another log');
  const savedRoot = Buffer.from(saved.rootHash, 'base64');
  if (cp.size < saved.treeSize) {
    throw new StepFailure(step, `the log shrank from ${saved.treeSize} to ${cp.size} events`);
  }
  if (cp.size === saved.treeSize) {
    if (!savedRoot.equals(cp.rootHash)) throw new StepFailure(step, `same size ${cp.size} but a different root: history was rewritten`);
    return `the log is unchanged since the saved checkpoint (size ${cp.size})`;
  }
  if (saved.treeSize === 0) return `the saved checkpoint was empty; the log grew to ${cp.size}`;
  const proof = await unaryCall(session.clients.audit, session.clients.audit.getConsistencyProof, {
    size1: saved.treeSize,
    size2: cp.size,
  });
  try {
    verifyConsistency(saved.treeSize, cp.size, proof.proof.map((p) => Buffer.from(p)), savedRoot, cp.rootHash);
  } catch {
    throw new StepFailure(step, `size ${cp.size} does not extend the saved size ${saved.treeSize}: history was rewritten`);
  }
  return `the log only grew: size ${saved.treeSize} → ${cp.size} proved consistent`;
}

/** Events per packed ListEvents page: two chain blocks (some 4.5 MB at 550 bytes an event). */
const PACKED_PAGE = 2 * BLOCK;

/** Logs at least this large are checked on worker threads. */
const PARALLEL_FROM = 4 * BLOCK;

async function verifyAllEvents(
  session: ComplianceSession,
  cp: Checkpoint,
  onProgress?: (done: number, total: number) => void,
  onEvents?: (page: readonly AuditEvent[]) => void,
): Promise<string> {
  // A large log is checked on worker threads while the next page is fetched; a small one inline
  // (starting workers would cost more than it saves).
  const tree = new StoredTreeCheck(session);
  const chain = new ParallelEventChain({ ...(cp.size >= PARALLEL_FROM ? {} : { workers: 0 }), onNode: tree.recomputed, onLevels: tree.recomputedLevels });
  let root: Buffer;
  let received = 0;
  try {
    for await (const page of packedEventPages(session, 0, cp.size, PACKED_PAGE)) {
      // Taken apart before the chain check, which hands the packed bytes to its workers.
      const events = onEvents && pageEvents(page);
      await ('packed' in page ? chain.pushPacked(page.packed) : chain.push(page.events));
      await tree.compare();
      if (events) onEvents!(events);
      received += page.count;
      onProgress?.(received, cp.size);
    }
    root = await chain.finish();
    await tree.compare(true);
    if (received < cp.size) throw new StepFailure('event chain', `events stop at ${received} of ${cp.size}`, received);
  } catch (error) {
    if (error instanceof ChainBreak) throw new StepFailure('event chain', error.message, error.seq);
    throw error;
  } finally {
    chain.close();
  }
  if (!root.equals(cp.rootHash)) {
    throw new StepFailure('root', 'the events do not hash to the signed root: an event was altered');
  }
  // Reported only now: a node is judged against events already proved to hash to the signed root.
  if (tree.failure !== undefined) throw new StepFailure('tree nodes', tree.failure);
  return `all ${cp.size} events link in one hash chain and hash to the signed root; the ${tree.compared} Merkle tree nodes the gateway stores for them match`;
}

async function verifySample(session: ComplianceSession, cp: Checkpoint, count: number): Promise<string> {
  if (cp.size === 0) return 'the log is empty';
  const seqs = new Set<number>([cp.size - 1]);
  while (seqs.size < Math.min(count, cp.size)) seqs.add(randomInt(cp.size));
  for (const seq of seqs) {
    const response = await unaryCall(session.clients.audit, session.clients.audit.getInclusionProof, {
      seq,
      treeSize: cp.size,
    });
    const leaf = leafHash(Buffer.from(response.event?.eventJson ?? '', 'utf8'));
    try {
      verifyInclusion(seq, cp.size, leaf, response.proof.map((p) => Buffer.from(p)), cp.rootHash);
    } catch {
      throw new StepFailure('inclusion', `event ${seq} is not included under the signed root`, seq);
    }
  }
  return `${seqs.size} randomly chosen events are included under the signed root`;
}
