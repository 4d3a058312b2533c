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
  const event = `decision:${hospitalId}`;
  // Subscribe before the first query, so a decision recorded between a query and the wait is not missed.
  let woken = false;
  let wake: (() => void) | undefined;
  const onDecision = () => {
    woken = true;
    wake?.();
  };
  gw.events.on(event, onDecision);
  try {
    let cursor = request.afterCursor;
    while (!signal.aborted) {
      woken = false;
      const rows = gw.decisions.forHospital(hospitalId, cursor, PAGE);
      for (const row of rows) {
        if (signal.aborted) return;
        await send(messageOf(row));
        cursor = row.cursor;
      }
      if (rows.length === PAGE || woken) continue;
      if (!request.follow) return;
      await new Promise<void>((resolve) => {
        const done = () => {
          clearTimeout(timer);
          signal.removeEventListener('abort', done);
          wake = undefined;
          resolve();
        };
        const timer = setTimeout(done, SAFETY_POLL_MS);
        signal.addEventListener('abort', done);
        wake = done;
      });
    }
  } finally {
    gw.events.off(event, onDecision);
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
