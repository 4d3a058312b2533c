/**
 * `hdx hospital watch`: the HIS drops FHIR bundles into a folder; each file is recorded in the adapter's
 * own SQLite outbox before anything else (outbox.ts), checked locally, signed and submitted, and moved to
 * `done/` (with the gateway's receipt) or `failed/` (with a reason file that names a status or an element,
 * never content). While the gateway is unreachable the daemon backs off as a whole (capped exponential, with
 * jitter) and keeps recording new files; after a restart it resumes from the outbox. The idempotency key is
 * derived from the bundle, so a file submitted just before a crash is answered as a replay, never as a
 * second transfer.
 *
 * Folder layout: <drop>/*.json in; <drop>/done/, <drop>/failed/; state in <drop>/.hdx/outbox.db (or --state).
 */
import { status } from '@grpc/grpc-js';
import { createHash } from 'node:crypto';
import { readFileSync, watch, type FSWatcher } from 'node:fs';
import { join } from 'node:path';
import { bundleDigestOf } from '../../keys/formats/submission.js';
import { isServiceError } from '../../proto/connect.js';
import { describeError, statusName } from '../../proto/errors.js';
import { makeFolders } from '../durable.js';
import { localCheck, shapeProblems, type LocalCheck } from '../local-validation.js';
import type { HospitalSession } from '../session.js';
import { idempotencyKeyOf, submitBundle } from '../submit.js';
import { backoffDelay, DEFAULT_BACKOFF, systemClock, type BackoffPolicy, type Clock } from './backoff.js';
import { moveWithNote, waitingFiles } from './drop-folder.js';
import { Outbox, type OutboxRow } from './outbox.js';

/** Answers that no retry changes: the file goes to failed/. Anything else is retried. */
const REFUSALS = new Set<number>([
  status.INVALID_ARGUMENT,
  status.FAILED_PRECONDITION,
  status.NOT_FOUND,
  status.ALREADY_EXISTS,
  status.OUT_OF_RANGE,
  status.PERMISSION_DENIED,
]);

export type WatchEvent =
  | { kind: 'recorded'; file: string }
  | { kind: 'submitted'; file: string; submissionId: string; insurers: string[]; replayed: boolean }
  | { kind: 'failed'; file: string; reason: string }
  | { kind: 'waiting'; reason: string; delayMs: number; pending: number }
  | { kind: 'connected' };

export interface WatchOptions {
  dropDir: string;
  /** Where the outbox lives; default <drop>/.hdx. */
  stateDir?: string;
  purpose?: string;
  /** Submissions in flight. */
  concurrency?: number;
  /** Opens (and re-opens) the session with the gateway. */
  openSession: () => Promise<HospitalSession>;
  /** Stop: finish what is in flight, close the outbox, return the summary. */
  signal: AbortSignal;
  /** Look at the folder again this often even without a file-system event (events can be missed on NFS). */
  rescanMs?: number;
  backoff?: BackoffPolicy;
  clock?: Clock;
  random?: () => number;
  onEvent?: (event: WatchEvent) => void;
  /** The check before sending (default: the shape only; see local-validation.ts). */
  check?: LocalCheck;
  /** Called with the session once it is open (the CLI starts following decisions on it). */
  onSession?: (session: HospitalSession) => void;
}

export interface WatchSummary {
  recorded: number;
  submitted: number;
  failed: number;
  pending: number;
}

type Outcome = 'settled' | 'transient';

export async function watchDropFolder(options: WatchOptions): Promise<WatchSummary> {
  const clock = options.clock ?? systemClock;
  const purpose = options.purpose ?? 'DIRECT_SETTLEMENT';
  const concurrency = Math.max(1, options.concurrency ?? 4);
  const drop = options.dropDir;
  const doneDir = join(drop, 'done');
  const failedDir = join(drop, 'failed');
  const stateDir = options.stateDir ?? join(drop, '.hdx');
  makeFolders(doneDir, failedDir, stateDir);
  const outbox = new Outbox(join(stateDir, 'outbox.db'));
  const summary: WatchSummary = { recorded: 0, submitted: 0, failed: 0, pending: 0 };
  const emit = (event: WatchEvent): void => options.onEvent?.(event);

  // Wake the loop early when the folder changes or the daemon is asked to stop.
  let wake = new AbortController();
  const onAbort = (): void => wake.abort();
  options.signal.addEventListener('abort', onAbort, { once: true });
  let watcher: FSWatcher | undefined;
  try {
    watcher = watch(drop, () => wake.abort());
    watcher.on('error', () => undefined); // the rescan still finds what an event would have
  } catch {
    watcher = undefined;
  }

  let session: HospitalSession | undefined;
  let failures = 0;

  /** Records every waiting file not yet in the outbox (one read and hash per new name and content). */
  const known = new Map<string, string>(); // name → mtime:size last hashed
  const intake = (): void => {
    for (const name of waitingFiles(drop)) {
      let bytes: Buffer;
      try {
        bytes = readFileSync(join(drop, name));
      } catch {
        continue; // moved away meanwhile
      }
      const digest = bundleDigestOf(bytes);
      const stamp = createHash('sha256').update(name).update(digest).digest('hex');
      if (known.get(name) === stamp) continue;
      known.set(name, stamp);
      const row = outbox.record(name, digest, idempotencyKeyOf(bytes), clock.now());
      if (row.state === 'pending' && row.attempts === 0) {
        summary.recorded++;
        emit({ kind: 'recorded', file: name });
      } else if (row.state !== 'pending') {
        outbox.markMovedPending(row.id); // dropped again after it was answered: move it like the first
      }
    }
  };

  /** Finishes the moves a crash interrupted (and those of files dropped again). */
  const finishMoves = async (): Promise<void> => {
    for (const row of outbox.unmoved()) {
      if (row.state === 'done') await moveWithNote(drop, doneDir, row.name, '.receipt.json', { submissionId: row.submissionId });
      else await moveWithNote(drop, failedDir, row.name, '.reason.json', { reason: row.reason });
      outbox.markMoved(row.id);
      known.delete(row.name);
    }
  };

  const processRow = async (row: OutboxRow, live: HospitalSession): Promise<Outcome> => {
    let bytes: Buffer;
    try {
      bytes = readFileSync(join(drop, row.name));
    } catch {
      outbox.forget(row.id); // the HIS took it back before it was sent
      return 'settled';
    }
    if (bundleDigestOf(bytes) !== row.digest) {
      outbox.forget(row.id); // replaced under the same name: the new content has its own row
      return 'settled';
    }
    const problems = (options.check ?? shapeProblems)(bytes);
    if (problems.length > 0) return settleFailed(row, `refused locally: ${problems.join('; ')}`, problems);
    try {
      // The outbox's key and digest are of these bytes (the digest was just checked): no second parse or hash.
      const response = await submitBundle(live, bytes, purpose, { forMs: 0 }, { idempotencyKey: row.idempotencyKey, bundleDigest: row.digest });
      outbox.succeeded(row.id, response.submissionId, clock.now());
      const insurers = response.transfers.map((t) => t.insurerId);
      await moveWithNote(drop, doneDir, row.name, '.receipt.json', {
        submissionId: response.submissionId,
        replayed: response.replayed,
        transfers: response.transfers.map((t) => ({ transferId: t.transferId, insurerId: t.insurerId })),
      });
      outbox.markMoved(row.id);
      known.delete(row.name);
      summary.submitted++;
      emit({ kind: 'submitted', file: row.name, submissionId: response.submissionId, insurers, replayed: response.replayed });
      return 'settled';
    } catch (error) {
      if (isServiceError(error) && REFUSALS.has(error.code)) {
        return settleFailed(row, `${statusName(error)}: ${error.details}`);
      }
      outbox.attempted(row.id, clock.now());
      lastTransient = describeError(error);
      return 'transient';
    }
  };

  const settleFailed = async (row: OutboxRow, reason: string, problems?: string[]): Promise<Outcome> => {
    outbox.failed(row.id, reason, clock.now());
    await moveWithNote(drop, failedDir, row.name, '.reason.json', { reason, ...(problems && { problems }) });
    outbox.markMoved(row.id);
    known.delete(row.name);
    summary.failed++;
    emit({ kind: 'failed', file: row.name, reason });
    return 'settled';
  };

  let lastTransient = '';
  const backOff = async (reason: string): Promise<void> => {
    failures++;
    const delayMs = backoffDelay(failures, options.backoff ?? DEFAULT_BACKOFF, options.random);
    emit({ kind: 'waiting', reason, delayMs, pending: outbox.counts().pending });
    await clock.sleep(delayMs, options.signal);
  };

  try {
    await finishMoves();
    while (!options.signal.aborted) {
      if (wake.signal.aborted) wake = new AbortController();
      intake();
      await finishMoves();
      const batch = outbox.pending(concurrency * 4);
      // With onSession (decisions followed on it) connect even with nothing to send: a daemon restarted
      // after its last submission must still receive their decisions.
      if (session === undefined && (batch.length > 0 || options.onSession)) {
        try {
          session = await options.openSession();
          options.onSession?.(session);
          emit({ kind: 'connected' });
        } catch (error) {
          await backOff(describeError(error));
          continue;
        }
      }
      if (batch.length === 0) {
        await clock.sleep(options.rescanMs ?? 30_000, wake.signal);
        continue;
      }
      const live = session!;
      // `concurrency` workers over the batch; the first transient answer stops new submissions.
      let transient = false;
      let next = 0;
      const worker = async (): Promise<void> => {
        while (!transient && !options.signal.aborted && next < batch.length) {
          if ((await processRow(batch[next++]!, live)) === 'transient') transient = true;
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batch.length) }, worker));
      if (transient) await backOff(lastTransient);
      else failures = 0;
    }
  } finally {
    options.signal.removeEventListener('abort', onAbort);
    watcher?.close();
    summary.pending = outbox.counts().pending;
    outbox.close();
    session?.close();
  }
  return summary;
}
