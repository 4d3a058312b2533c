/**
 * Following the hospital's settlement decisions. For each decision the gateway streams: verify the insurer's
 * signature (its keys from the directory) and that the token is the one the stream says it is → write it
 * for the HIS → update the stay's settlement → only then store the cursor. A restart resumes after the last
 * stored cursor; a crash between a write and the cursor repeats the same writes to the same files, so the
 * HIS sees neither a gap nor a duplicate. A decision that does not verify is set aside in `refused/` (with
 * the reason) and skipped, so one bad token cannot stop the desk.
 *
 * Folder layout (`--out`):
 *   decisions/<cursor>.json        one verified decision each, in arrival order (the HIS's inbox)
 *   settlements/<submission>.json  the stay's settlement: charges, 医保, insurer share, patient remainder
 *   refused/<cursor>.json          decisions that did not verify, with the reason
 *   state.json                     the last cursor handled
 */
import { status } from '@grpc/grpc-js';
import { join } from 'node:path';
import { VerificationError } from '../keys/errors.js';
import { parsePartyUri } from '../keys/identity.js';
import { peekDecisionIssuer, verifyDecision, type DecisionClaims } from '../keys/formats/decision.js';
import type { StreamDecisionsResponse } from '../proto/gen/hdx/v1/settlement.js';
import { isServiceError } from '../proto/connect.js';
import { describeError } from '../proto/errors.js';
import { readJsonIfExists, writeFileDurably } from './durable.js';
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
  onDecision?: (event: DecisionEvent) => void | Promise<void>;
}

export interface FollowSummary {
  received: number;
  refused: number;
  /** The last cursor handled (stored in state.json). */
  cursor: number;
}

interface State {
  cursor: number;
}

const ID = /^[A-Za-z0-9_-][A-Za-z0-9._-]{0,127}$/;
const cursorName = (cursor: number) => `${String(cursor).padStart(12, '0')}.json`;

export function readCursor(outDir: string): number {
  const state = readJsonIfExists<State>(join(outDir, 'state.json'));
  return state && Number.isSafeInteger(state.cursor) && state.cursor >= 0 ? state.cursor : 0;
}

/** Streams decisions after the stored cursor; resolves when the stream ends (or `signal` aborts). */
export async function followDecisions(session: HospitalSession, options: FollowOptions): Promise<FollowSummary> {
  const keys = new InsurerKeys(session);
  const summary: FollowSummary = { received: 0, refused: 0, cursor: readCursor(options.outDir) };
  const stream = session.clients.settlement.streamDecisions({ afterCursor: summary.cursor, follow: options.follow ?? false });
  const stop = () => stream.cancel();
  options.signal?.addEventListener('abort', stop);
  try {
    for await (const message of stream as AsyncIterable<StreamDecisionsResponse>) {
      if (message.cursor <= summary.cursor) continue; // never step back, never repeat
      const event = await handle(session, keys, options.outDir, message);
      writeFileDurably(join(options.outDir, 'state.json'), JSON.stringify({ cursor: message.cursor }));
      summary.cursor = message.cursor;
      if (event.ok) summary.received += 1;
      else summary.refused += 1;
      await options.onDecision?.(event);
    }
  } catch (error) {
    if (!options.signal?.aborted) throw error;
  } finally {
    options.signal?.removeEventListener('abort', stop);
  }
  return summary;
}

async function handle(session: HospitalSession, keys: InsurerKeys, outDir: string, m: StreamDecisionsResponse): Promise<DecisionEvent> {
  let claims: DecisionClaims;
  try {
    claims = await verify(session, keys, m);
  } catch (error) {
    // The gateway unreachable is not the decision's fault: stop, and resume from this cursor later.
    if (isServiceError(error) && error.code !== status.NOT_FOUND) throw error;
    const reason = error instanceof VerificationError ? `${error.code}: ${error.message}` : describeError(error);
    writeFileDurably(
      join(outDir, 'refused', cursorName(m.cursor)),
      JSON.stringify({ cursor: m.cursor, decisionId: m.decisionId, transferId: m.transferId, submissionId: m.submissionId, reason, jws: m.decision }, null, 2),
    );
    return { ok: false, cursor: m.cursor, decisionId: m.decisionId, transferId: m.transferId, reason };
  }
  const decision: ReceivedDecision = {
    cursor: m.cursor,
    decisionId: m.decisionId,
    transferId: m.transferId,
    submissionId: m.submissionId,
    insurerId: parsePartyUri(claims.iss).id,
    recordedAt: (m.recordedAt ?? new Date(0)).toISOString(),
    claims,
    jws: m.decision,
  };
  const path = join(outDir, 'decisions', cursorName(m.cursor));
  writeFileDurably(path, JSON.stringify(decision, null, 2));
  const settlementPath = join(outDir, 'settlements', `${m.submissionId}.json`);
  const settlement = applyDecision(readJsonIfExists<StaySettlement>(settlementPath), m.submissionId, {
    cursor: m.cursor,
    transferId: m.transferId,
    insurerId: decision.insurerId,
    decisionId: m.decisionId,
    outcome: claims.hdx.outcome,
    amounts: claims.hdx.amounts,
    recordedAt: decision.recordedAt,
  });
  writeFileDurably(settlementPath, JSON.stringify(settlement, null, 2));
  return { ok: true, decision, settlement, path };
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
