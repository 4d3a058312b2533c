/**
 * Following the hospital's settlement decisions. For each decision the gateway streams: verify the insurer's
 * signature (its keys from the directory) and that the token is the one the stream says it is → store the
 * cursor together with the decision's file for the HIS and the stay's updated settlement (one line of the
 * cursor log, fdatasynced) → write those files. A restart resumes after the last stored cursor, first
 * writing again the files the log names (cursor-log.ts), so the HIS sees neither a gap nor a duplicate. A decision that does not verify is set aside in `refused/` (with
 * the reason) and skipped, so one bad token cannot stop the desk. What is stored is acknowledged to the
 * gateway (through the cursor, every few seconds), which then keeps the tokens only for its retention period.
 *
 * Decisions that arrive together are handled as one batch (group commit, as the gateway does): verified
 * concurrently, then one log line and one fdatasync for the batch's files and cursor. At the desk's pace a batch is one
 * decision; under load the batches grow and the cost per decision falls.
 *
 * Folder layout (`--out`):
 *   decisions/<cursor>.json        one verified decision each, in arrival order (the HIS's inbox)
 *   settlements/<submission>.json  the stay's settlement: charges, 医保, insurer share, patient remainder
 *   refused/<cursor>.json          decisions that did not verify, with the reason
 *   cursor.log                     the cursors handled, one per line (see cursor-log.ts)
 */
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import { VerificationError } from '../keys/errors.js';
import { parsePartyUri } from '../keys/identity.js';
import { peekDecisionIssuer, verifyDecision, type DecisionClaims } from '../keys/formats/decision.js';
import { isServiceError, keepFollowing, unaryCall } from '../proto/connect.js';
import { describeError } from '../proto/errors.js';
import type { StreamDecisionsResponse } from '../proto/gen/hdx/v1/settlement.js';
import { CursorLog, readCursor, type LoggedFile } from './cursor-log.js';
import { makeFolders, readJsonIfExists } from './durable.js';
import { InsurerKeys } from './insurer-keys.js';
import type { HospitalSession } from './session.js';
import { applyDecision, type StaySettlement } from './settlement.js';

export interface ReceivedDecision {
  cursor: number;
  decisionId: string;
  transferId: string;
  submissionId: string;
  insurerId: string;
  recordedAt: string;
  claims: DecisionClaims;
  /** The insurer's JWS, as received. */
  jws: string;
}

export type DecisionEvent =
  | { ok: true; decision: ReceivedDecision; settlement: StaySettlement; path: string }
  | { ok: false; cursor: number; decisionId: string; transferId: string; reason: string };

export interface FollowOptions {
  /** The folder the HIS reads (see the layout above). */
  outDir: string;
  /** Keep the stream open for new decisions until `signal` aborts. */
  follow?: boolean;
  signal?: AbortSignal;
  /** Called for each decision, in cursor order, once it and the cursor after it are on disk. */
  onDecision?: (event: DecisionEvent) => void | Promise<void>;
  /** With `follow`: the gateway went away; the stream is opened again after `delayMs`. */
  onReconnect?: (error: Error, delayMs: number) => void;
}

export interface FollowSummary {
  received: number;
  refused: number;
  /** The last cursor handled (stored in cursor.log). */
  cursor: number;
}

const MAX_BATCH = 256;
const ACK_EVERY_MS = 5_000;
const ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const cursorName = (cursor: number) => `${String(cursor).padStart(12, '0')}.json`;

export { readCursor };

/**
 * Streams decisions after the stored cursor; resolves when the stream ends (or `signal` aborts). With
 * `follow`, a gateway that goes away (UNAVAILABLE) is waited for and followed again from the stored cursor.
 */
export async function followDecisions(session: HospitalSession, options: FollowOptions): Promise<FollowSummary> {
  const summary: FollowSummary = { received: 0, refused: 0, cursor: 0 };
  const keys = new InsurerKeys(session);
  if (!options.follow) await followOnce(session, keys, options, summary);
  else {
    await keepFollowing(() => followOnce(session, keys, options, summary), {
      ...(options.signal && { signal: options.signal }),
      ...(options.onReconnect && { beforeReconnect: options.onReconnect }),
    });
  }
  return summary;
}

/** One stream, from the stored cursor; adds what it handled to `summary`. */
async function followOnce(session: HospitalSession, keys: InsurerKeys, options: FollowOptions, summary: FollowSummary): Promise<void> {
  makeFolders(...['decisions', 'settlements', 'refused'].map((dir) => join(options.outDir, dir)));
  const cursorLog = await CursorLog.open(options.outDir);
  summary.cursor = cursorLog.cursor;
  const stream = session.clients.settlement.streamDecisions({ afterCursor: summary.cursor, follow: options.follow ?? false });
  const inbox = new Inbox(stream);
  const acks = new Acknowledger(session, summary.cursor);
  const stop = () => stream.cancel();
  options.signal?.addEventListener('abort', stop);
  try {
    for (;;) {
      const batch = (await inbox.take(MAX_BATCH)).filter((m) => m.cursor > summary.cursor);
      if (options.signal?.aborted) break;
      if (batch.length === 0) {
        if (inbox.ended) break;
        continue;
      }
      const { events, files } = await handleBatch(session, keys, options.outDir, batch);
      const last = batch[batch.length - 1]!.cursor;
      await cursorLog.store(last, files);
      summary.cursor = last;
      acks.stored(last);
      for (const event of events) {
        if (event.ok) summary.received += 1;
        else summary.refused += 1;
        await options.onDecision?.(event);
      }
    }
    if (inbox.failure !== undefined && !options.signal?.aborted) throw inbox.failure;
  } finally {
    options.signal?.removeEventListener('abort', stop);
    await cursorLog.close();
    await acks.flush();
  }
}

/**
 * Tells the gateway which decisions are stored here (AcknowledgeDecisions through the stored cursor), so it
 * can start their tokens' retention. At most every ACK_EVERY_MS while following, and once more at the end
 * of each stream; a failed acknowledgement is left to the next one (each covers all before it).
 */
class Acknowledger {
  /** Acknowledged by this run (0: nothing yet, so the resumed cursor is acknowledged too). */
  private sent = 0;
  private latest: number;
  private lastAt = 0;
  private pending: Promise<void> = Promise.resolve();

  /** `stored`: the cursor the stream resumed from (an earlier run may have stopped before acknowledging it). */
  constructor(
    private readonly session: HospitalSession,
    stored: number,
  ) {
    this.latest = stored;
  }

  stored(cursor: number): void {
    this.latest = cursor;
    if (Date.now() - this.lastAt >= ACK_EVERY_MS) this.pending = this.pending.then(() => this.send());
  }

  flush(): Promise<void> {
    this.pending = this.pending.then(() => this.send());
    return this.pending;
  }

  private async send(): Promise<void> {
    if (this.latest <= this.sent) return;
    const through = this.latest;
    this.lastAt = Date.now();
    try {
      await unaryCall(this.session.clients.settlement, this.session.clients.settlement.acknowledgeDecisions, { throughCursor: through }, { timeoutMs: 10_000 });
      this.sent = through;
    } catch {
      // The next acknowledgement covers these too.
    }
  }
}

/** Buffers the stream's messages so that whatever has arrived can be taken as one batch; pauses when full. */
class Inbox {
  private queue: StreamDecisionsResponse[] = [];
  private wake: (() => void) | undefined;
  ended = false;
  failure: unknown;

  constructor(private readonly stream: NodeJS.ReadableStream) {
    stream.on('data', (m: StreamDecisionsResponse) => {
      this.queue.push(m);
      if (this.queue.length >= MAX_BATCH * 4) stream.pause();
      this.wake?.();
    });
    stream.on('end', () => this.finish());
    stream.on('error', (error: unknown) => this.finish(error));
  }

  private finish(error?: unknown): void {
    this.ended = true;
    if (error !== undefined) this.failure = error;
    this.wake?.();
  }

  /** Waits for at least one message (or the end), then takes up to `max`. */
  async take(max: number): Promise<StreamDecisionsResponse[]> {
    while (this.queue.length === 0 && !this.ended) {
      await new Promise<void>((resolve) => (this.wake = resolve));
      this.wake = undefined;
    }
    const batch = this.queue.splice(0, max);
    if (this.stream.isPaused()) this.stream.resume();
    return batch;
  }
}

type Checked = { m: StreamDecisionsResponse; claims: DecisionClaims } | { m: StreamDecisionsResponse; reason: string };

async function handleBatch(
  session: HospitalSession,
  keys: InsurerKeys,
  outDir: string,
  batch: StreamDecisionsResponse[],
): Promise<{ events: DecisionEvent[]; files: LoggedFile[] }> {
  const checked = await Promise.all(batch.map((m) => check(session, keys, m)));
  const files: LoggedFile[] = [];
  const events: DecisionEvent[] = [];
  const write = (dir: string, name: string, value: unknown) => void files.push({ path: `${dir}/${name}`, data: JSON.stringify(value, null, 2) });
  const accepted: Array<{ decision: ReceivedDecision; path: string }> = [];
  for (const c of checked) {
    const { m } = c;
    if ('reason' in c) {
      write('refused', cursorName(m.cursor), { cursor: m.cursor, decisionId: m.decisionId, transferId: m.transferId, submissionId: m.submissionId, reason: c.reason, jws: m.decision });
      continue;
    }
    const decision: ReceivedDecision = {
      cursor: m.cursor,
      decisionId: m.decisionId,
      transferId: m.transferId,
      submissionId: m.submissionId,
      insurerId: parsePartyUri(c.claims.iss).id,
      recordedAt: (m.recordedAt ?? new Date(0)).toISOString(),
      claims: c.claims,
      jws: m.decision,
    };
    write('decisions', cursorName(m.cursor), decision);
    accepted.push({ decision, path: join(outDir, 'decisions', cursorName(m.cursor)) });
  }
  const { before, after } = settle(outDir, accepted.map((x) => x.decision));
  for (const [submissionId, settlement] of after) write('settlements', `${submissionId}.json`, settlement);

  // Events in cursor order, each with its stay's settlement as of that decision.
  const asOf = new Map(before);
  let next = 0;
  for (const c of checked) {
    if ('reason' in c) {
      events.push({ ok: false, cursor: c.m.cursor, decisionId: c.m.decisionId, transferId: c.m.transferId, reason: c.reason });
      continue;
    }
    const { decision, path } = accepted[next++]!;
    const settlement = applyDecision(asOf.get(decision.submissionId), decision.submissionId, stayDecisionOf(decision));
    asOf.set(decision.submissionId, settlement);
    events.push({ ok: true, decision, settlement, path });
  }
  return { events, files };
}

/** Each touched stay's settlement before the batch (as stored) and after it. */
function settle(outDir: string, decisions: ReceivedDecision[]) {
  const before = new Map<string, StaySettlement | undefined>();
  const after = new Map<string, StaySettlement>();
  const bySubmission = new Map<string, ReceivedDecision[]>();
  for (const d of decisions) bySubmission.set(d.submissionId, [...(bySubmission.get(d.submissionId) ?? []), d]);
  for (const [submissionId, list] of bySubmission) {
    const stored = readJsonIfExists<StaySettlement>(join(outDir, 'settlements', `${submissionId}.json`));
    before.set(submissionId, stored);
    after.set(submissionId, list.reduce<StaySettlement | undefined>((s, d) => applyDecision(s, submissionId, stayDecisionOf(d)), stored)!);
  }
  return { before, after };
}

function stayDecisionOf(d: ReceivedDecision) {
  return {
    cursor: d.cursor,
    transferId: d.transferId,
    insurerId: d.insurerId,
    decisionId: d.decisionId,
    outcome: d.claims.hdx.outcome,
    amounts: d.claims.hdx.amounts,
    recordedAt: d.recordedAt,
  };
}

async function check(session: HospitalSession, keys: InsurerKeys, m: StreamDecisionsResponse): Promise<Checked> {
  try {
    return { m, claims: await verify(session, keys, m) };
  } catch (error) {
    // The gateway unreachable is not the decision's fault: stop, and resume from this cursor later.
    if (isServiceError(error) && error.code !== status.NOT_FOUND) throw error;
    return { m, reason: error instanceof VerificationError ? `${error.code}: ${error.message}` : describeError(error) };
  }
}

/** The insurer's signature, addressed to our gateway, and about exactly what the stream says. */
async function verify(session: HospitalSession, keys: InsurerKeys, m: StreamDecisionsResponse): Promise<DecisionClaims> {
  // Ids become file names: refuse anything that could leave the folder.
  if (!ID.test(m.submissionId) || !ID.test(m.transferId)) throw new Error('the stream named an invalid id');
  const issuer = peekDecisionIssuer(m.decision);
  if (issuer === undefined) throw new VerificationError('ERR_MALFORMED', 'decision names no issuer');
  const options = { audience: session.gatewayUri, issuer, transfer: m.transferId };
  let claims: DecisionClaims;
  try {
    claims = await verifyDecision(m.decision, await keys.get(issuer), options);
  } catch (error) {
    if (!(error instanceof VerificationError && error.code === 'ERR_KEY')) throw error;
    claims = await verifyDecision(m.decision, await keys.get(issuer, { refresh: true }), options);
  }
  if (claims.jti !== m.decisionId || claims.hdx.submission !== m.submissionId) {
    throw new VerificationError('ERR_DIGEST', 'decision does not match the stream’s ids');
  }
  return claims;
}
