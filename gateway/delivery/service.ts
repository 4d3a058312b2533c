/**
 * At-least-once delivery. An insurer pulls only its own transfers; each one handed out is leased and
 * handed out again once the lease runs out unacknowledged. Acknowledgement carries the insurer's
 * signed receipt over the envelope digest and is idempotent.
 */
import { digestOf } from '../../keys/canonical.js';
import { verifyReceipt } from '../../keys/formats/receipt.js';
import type { Gateway } from '../app.js';
import { requireRole } from '../authorize.js';
import type { CallContext } from '../context.js';
import { NotFound, PreconditionFailed } from '../errors.js';
import { signedRefusal, verifiedOrRefused } from '../signed-refusal.js';
import { requireIdempotencyKey } from '../storage/idempotency.js';
import { Wakeup } from '../wakeup.js';

export interface LeasedTransfer {
  transferId: string;
  envelope: string;
  payload: string;
  leaseExpiresAt: Date;
  deliveryAttempt: number;
}

function leaseLength(gw: Gateway, requestedSeconds: number): number {
  if (!requestedSeconds) return gw.settings.leaseMs;
  return Math.min(Math.max(requestedSeconds * 1000, 1000), gw.settings.maxLeaseMs);
}

/** Leases up to `max` ready transfers for the calling insurer, durably, and returns them. */
export async function leaseTransfers(
  gw: Gateway,
  ctx: CallContext,
  request: { max: number; leaseSeconds: number },
): Promise<LeasedTransfer[]> {
  requireRole(ctx, 'insurer');
  const limit = Math.min(request.max || gw.settings.pullBatch, gw.settings.pullBatch);
  const leaseMs = leaseLength(gw, request.leaseSeconds);
  return gw.commit(async (tx) => {
    const now = gw.clock();
    const until = now + leaseMs;
    const leased: LeasedTransfer[] = [];
    for (const row of await tx.transfers.leaseReady(ctx.party.id, now, until, limit)) {
      const attempt = row.delivery_attempts;
      await gw.audit.append(tx, {
        action: 'transfer.deliver',
        actor: ctx.party.id,
        outcome: 'ok',
        consent: row.consent_id,
        submission: row.submission_id,
        transfer: row.transfer_id,
        patient: row.patient_ref,
        details: { attempt, envelopeDigest: row.envelope_digest },
      });
      leased.push({
        transferId: row.transfer_id,
        envelope: row.envelope,
        payload: row.payload ?? '',
        leaseExpiresAt: new Date(until),
        deliveryAttempt: attempt,
      });
    }
    return leased;
  });
}

/**
 * Streams transfers to `send` until `signal` aborts (follow) or the queue is drained (no follow).
 * Wakes on new transfers for this insurer and when the earliest lease expires.
 */
export async function pullTransfers(
  gw: Gateway,
  ctx: CallContext,
  request: { max: number; leaseSeconds: number; follow: boolean },
  send: (transfer: LeasedTransfer) => Promise<void>,
  signal: AbortSignal,
): Promise<void> {
  requireRole(ctx, 'insurer');
  const wakeup = new Wakeup(gw.events, `transfer:${ctx.party.id}`);
  try {
    let remaining = request.max || Number.POSITIVE_INFINITY;
    while (!signal.aborted && remaining > 0) {
      wakeup.reset();
      const batch = await leaseTransfers(gw, ctx, { max: Math.min(remaining, gw.settings.pullBatch), leaseSeconds: request.leaseSeconds });
      for (const transfer of batch) {
        if (signal.aborted) return;
        await send(transfer);
      }
      remaining -= batch.length;
      if (batch.length > 0) continue;
      if (!request.follow) return;
      // Re-check at the earliest lease expiry, and at least every 5 s as a safety net.
      const expiry = await gw.transfers.nextLeaseExpiry(ctx.party.id);
      await wakeup.wait(Math.max(50, Math.min(expiry === null ? 5000 : expiry - gw.clock() + 5, 5000)), signal);
    }
  } finally {
    wakeup.close();
  }
}

export async function acknowledgeTransfer(
  gw: Gateway,
  ctx: CallContext,
  request: { idempotencyKey: string; transferId: string; receipt: string },
): Promise<{ transferId: string; acknowledgedAt: Date; replayed: boolean }> {
  requireRole(ctx, 'insurer');
  requireIdempotencyKey(request.idempotencyKey);
  const row = await gw.transfers.get(request.transferId);
  // Another insurer's transfer is indistinguishable from a missing one.
  if (!row || row.insurer_id !== ctx.party.id) throw new NotFound('transfer not found');
  if (row.acknowledged_at !== null) {
    return { transferId: row.transfer_id, acknowledgedAt: new Date(row.acknowledged_at), replayed: true };
  }
  if (row.state === 'pending') throw new PreconditionFailed('transfer has not been delivered');
  if (row.state === 'withheld') throw new PreconditionFailed('transfer was withheld: its consent is no longer valid');
  const claims = await verifiedOrRefused('receipt', () =>
    verifyReceipt(request.receipt, gw.parties.signingJwks(ctx.party.id), {
      audience: gw.signer.uri,
      issuer: ctx.party.uri,
      envelope: row.envelope,
    }),
  );
  if (claims.jti !== row.transfer_id) throw signedRefusal('receipt', 'jti', 'it names another transfer');
  return gw.commit(async (tx) => {
    const now = gw.clock();
    if (!(await tx.transfers.acknowledge(row.transfer_id, now, request.receipt, now + gw.settings.retentionMs))) {
      const current = await tx.transfers.get(row.transfer_id);
      if (current?.acknowledged_at) {
        return { transferId: row.transfer_id, acknowledgedAt: new Date(current.acknowledged_at), replayed: true };
      }
      throw new PreconditionFailed('transfer can no longer be acknowledged');
    }
    await gw.audit.append(tx, {
      action: 'transfer.acknowledge',
      actor: ctx.party.id,
      outcome: 'ok',
      consent: row.consent_id,
      submission: row.submission_id,
      transfer: row.transfer_id,
      patient: row.patient_ref,
      details: { envelopeDigest: row.envelope_digest, receiptDigest: digestOf(request.receipt) },
    });
    return { transferId: row.transfer_id, acknowledgedAt: new Date(now), replayed: false };
  });
}

/** Deletes ciphertext whose retention after acknowledgement has passed; the audit log keeps digests. */
export async function purgeExpiredPayloads(gw: Gateway): Promise<number> {
  return gw.commit(async (tx) => {
    const purged = await tx.transfers.purgeDue(gw.clock());
    for (const t of purged) {
      await gw.audit.append(tx, {
        action: 'transfer.purge',
        actor: 'gateway',
        outcome: 'ok',
        transfer: t.transfer_id,
        patient: t.patient_ref,
        parties: [t.insurer_id],
      });
    }
    return purged.length;
  });
}
