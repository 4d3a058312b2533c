/**
 * How long the gateway keeps a decision's token (the insurer's JWS: amounts and the explanation for the
 * patient). The hospital acknowledges its decisions through a cursor once they are stored on its side;
 * that starts the same retention period as a transfer's ciphertext, after which the token is dropped. The
 * digest, outcome and times stay, for service levels and the audit log; a purged decision is not streamed
 * again. Monotonic and idempotent: acknowledging an earlier or the same cursor changes nothing.
 */
import type { Gateway } from '../app.js';
import { requireRole } from '../authorize.js';
import type { CallContext } from '../context.js';
import { InvalidInput } from '../errors.js';

export async function acknowledgeDecisions(
  gw: Gateway,
  ctx: CallContext,
  request: { throughCursor: number },
): Promise<{ acknowledged: number }> {
  requireRole(ctx, 'hospital');
  const through = request.throughCursor;
  if (!Number.isSafeInteger(through) || through < 1) throw new InvalidInput('throughCursor must be a cursor the decision stream sent');
  return gw.commit(async (tx) => {
    const now = gw.clock();
    const acknowledged = await tx.decisions.acknowledge(ctx.party.id, through, now, now + gw.settings.retentionMs);
    if (acknowledged > 0) {
      await gw.audit.append(tx, {
        action: 'decision.acknowledge',
        actor: ctx.party.id,
        outcome: 'ok',
        details: { throughCursor: through, decisions: acknowledged },
      });
    }
    return { acknowledged };
  });
}

/** Drops the tokens whose retention after acknowledgement has passed; the audit log keeps their digests. */
export async function purgeExpiredDecisions(gw: Gateway): Promise<number> {
  return gw.commit(async (tx) => {
    const purged = await tx.decisions.purgeDue(gw.clock());
    for (const d of purged) {
      const patient = (await tx.transfers.get(d.transfer_id))?.patient_ref;
      await gw.audit.append(tx, {
        action: 'decision.purge',
        actor: 'gateway',
        outcome: 'ok',
        transfer: d.transfer_id,
        decision: d.decision_id,
        ...(patient !== undefined && { patient }),
        parties: [d.hospital_id, d.insurer_id],
      });
    }
    return purged.length;
  });
}
