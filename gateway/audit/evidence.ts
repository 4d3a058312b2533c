/**
 * The evidence file for one transfer: the three signatures of its hops (the hospital's submission, the
 * gateway's envelope, the insurer's receipt), the public keys that verify them, the audit events that
 * recorded each hop and their inclusion proofs against one signed checkpoint. It verifies offline
 * (`hdx audit check-evidence`) without trusting the gateway.
 */
import type { Gateway } from '../app.js';
import { requireRole } from '../authorize.js';
import type { CallContext } from '../context.js';
import { NotFound } from '../errors.js';
import type { AuditService } from './service.js';

export const EVIDENCE_FORMAT = 'hdx-evidence/v1';

export async function buildEvidence(
  gw: Gateway,
  audit: AuditService,
  ctx: CallContext,
  transferId: string,
  logVerifierKey: string,
): Promise<string> {
  requireRole(ctx, 'regulator');
  const transfer = await gw.transfers.get(transferId);
  if (!transfer) throw new NotFound('transfer not found');
  const submission = await gw.submissions.get(transfer.submission_id);
  if (!submission) throw new NotFound('submission not found');
  // Handing out evidence is itself audited (naming what was asked for, as queries do), and the
  // checkpoint taken after it covers that event too.
  await gw.commit((tx) =>
    gw.audit.append(tx, {
      action: 'audit.query',
      actor: ctx.party.id,
      outcome: 'ok',
      details: { kind: 'evidence', filters: ['transferId'] },
    }),
  );
  const checkpoint = await audit.checkpoint(ctx);
  const rows = await gw.store.reads.audit.forTransfer(transferId, transfer.submission_id, checkpoint.treeSize);
  const events = [];
  for (const row of rows) {
    const proof = await gw.audit.tree.inclusionProof(row.seq, checkpoint.treeSize);
    events.push({ seq: row.seq, event: row.event_json, proof: proof.map((h) => h.toString('base64')) });
  }
  const hospital = gw.parties.byId(submission.hospital_id);
  const insurer = gw.parties.byId(transfer.insurer_id);
  return JSON.stringify({
    format: EVIDENCE_FORMAT,
    transferId,
    checkpoint: checkpoint.note,
    logVerifierKey,
    parties: {
      gateway: { uri: gw.signer.uri, jwks: gw.signer.publicJwks() },
      hospital: hospital && { uri: hospital.uri, jwks: gw.parties.signingJwks(hospital.id, new Date(submission.accepted_at)) },
      insurer: insurer && { uri: insurer.uri, jwks: gw.parties.signingJwks(insurer.id, new Date(transfer.created_at)) },
    },
    submission: { signature: submission.signature, bundleDigest: submission.bundle_digest },
    envelope: transfer.envelope,
    receipt: transfer.receipt,
    events,
  });
}
