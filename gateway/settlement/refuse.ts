/**
 * Audited refusals of a decision. The event names the reason, the refused token's digest and — only when
 * the token named a transfer that exists — that transfer; never the token's content, which may be
 * unverified input.
 */
import type { Gateway } from '../app.js';
import type { CallContext } from '../context.js';
import type { TransferRow } from '../storage/transfers.js';

export type RefusalReason =
  | 'malformed'
  | 'bad-signature'
  | 'unknown-transfer'
  | 'envelope-mismatch'
  | 'not-delivered'
  | 'withheld'
  | 'already-decided'
  | 'stale-revision'
  | 'decision-id-reused';

export async function refuseDecision(
  gw: Gateway,
  ctx: CallContext,
  reason: RefusalReason,
  decisionDigest: string,
  transfer?: TransferRow,
): Promise<void> {
  await gw.commit((tx) =>
    gw.audit.append(tx, {
      action: 'decision.refuse',
      actor: ctx.party.id,
      outcome: 'refused',
      ...(transfer && {
        consent: transfer.consent_id,
        submission: transfer.submission_id,
        transfer: transfer.transfer_id,
        // An attempt on another insurer's transfer concerns that insurer too.
        ...(transfer.insurer_id !== ctx.party.id && { parties: [transfer.insurer_id] }),
      }),
      details: { reason, decisionDigest },
    }),
  );
}
