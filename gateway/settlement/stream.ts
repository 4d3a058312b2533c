/**
 * A hospital's decisions, as a stream that resumes exactly: every decision (revisions included) has a
 * cursor, the hospital asks for those after the last cursor it stored, and with `follow` the stream stays
 * open and wakes when a decision for this hospital is recorded. Only the submitting hospital's decisions.
 */
import type { Gateway } from '../app.js';
import { requireRole } from '../authorize.js';
import type { CallContext } from '../context.js';
import { InvalidInput } from '../errors.js';
import type { DecisionRow } from '../storage/decisions.js';
import { Wakeup } from '../wakeup.js';

const PAGE = 200;
/** Re-check at least this often even without a wake-up: a safety net, not the mechanism. */
const SAFETY_POLL_MS = 5_000;

export interface DecisionMessage {
  cursor: number;
  decisionId: string;
  transferId: string;
  submissionId: string;
  /** The insurer's JWS, forwarded unchanged. */
  decision: string;
  recordedAt: Date;
}

export async function streamDecisions(
  gw: Gateway,
  ctx: CallContext,
  request: { afterCursor: number; follow: boolean },
  send: (message: DecisionMessage) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  requireRole(ctx, 'hospital');
  if (!Number.isSafeInteger(request.afterCursor) || request.afterCursor < 0) {
    throw new InvalidInput('after_cursor must be a non-negative integer');
  }
  const hospitalId = ctx.party.id;
  // Subscribed before the first query, so a decision recorded between a query and the wait is not missed.
  const wakeup = new Wakeup(gw.events, `decision:${hospitalId}`);
  try {
    let cursor = request.afterCursor;
    while (!signal.aborted) {
      wakeup.reset();
      const rows = await gw.decisions.forHospital(hospitalId, cursor, PAGE);
      for (const row of rows) {
        if (signal.aborted) return;
        await send(messageOf(row));
        cursor = row.cursor;
      }
      if (rows.length === PAGE) continue;
      if (!request.follow) return;
      await wakeup.wait(SAFETY_POLL_MS, signal);
    }
  } finally {
    wakeup.close();
  }
}

function messageOf(row: DecisionRow): DecisionMessage {
  return {
    cursor: row.cursor,
    decisionId: row.decision_id,
    transferId: row.transfer_id,
    submissionId: row.submission_id,
    decision: row.decision,
    recordedAt: new Date(row.recorded_at),
  };
}
