/**
 * Receiving one transfer, in the order that makes it safe: verify the gateway's signature and that we
 * are the audience, check the payload against the signed digest, decrypt with our own key, write the
 * bundle and claims durably, and only then acknowledge with a signed receipt. A transfer that fails any
 * step is not written and not acknowledged (the gateway will offer it again; we report it); one stored
 * whose acknowledgement could not reach the gateway is reported as pending, not refused.
 */
import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { envelopeDigestOf, signReceipt } from '../keys/formats/receipt.js';
import { openPayload, readPayloadHeader } from '../keys/formats/payload.js';
import { verifyTransferEnvelope, type TransferEnvelopeClaims } from '../keys/formats/transfer-envelope.js';
import type { AcknowledgeTransferRequest, AcknowledgeTransferResponse, Transfer } from '../proto/gen/hdx/v1/delivery.js';
import { coalescing } from '../proto/coalesce.js';
import { isTransient, retryUnavailable, unaryCall } from '../proto/connect.js';
import { describeError } from '../proto/errors.js';
import { withGatewayKeys } from '../proto/session.js';
import { decryptionKeysFor } from './decryption-keys.js';
import { writeFilesDurably } from './durable-files.js';
import type { InsurerSession } from './session.js';

export interface Received {
  transferId: string;
  claims: TransferEnvelopeClaims;
  bundle: Record<string, unknown>;
  bundlePath: string;
  /** The gateway's envelope JWS, as received (a decision names its digest). */
  envelope: string;
  /**
   * Set when the transfer is stored but its acknowledgement did not get through (the gateway restarting):
   * not a refusal — the gateway offers it again when its lease ends, and that delivery acknowledges it.
   */
  acknowledgementPending?: string;
}

export async function verifyAndOpen(session: InsurerSession, transfer: Transfer) {
  const claims = await withGatewayKeys(session, (jwks) =>
    verifyTransferEnvelope(transfer.envelope, jwks, {
      audience: session.identity.party.uri,
      issuer: session.gatewayUri,
      payload: transfer.payload,
    }),
  );
  if (claims.jti !== transfer.transferId) throw new Error('envelope names another transfer');
  const keys = decryptionKeysFor(session, readPayloadHeader(transfer.payload).kid);
  const plain = await openPayload(transfer.payload, keys);
  // A view, not a copy, of the 19 KB plaintext.
  const text = Buffer.from(plain.buffer, plain.byteOffset, plain.byteLength).toString('utf8');
  const bundle = JSON.parse(text) as Record<string, unknown>;
  return { claims, bundle, text };
}

export async function receiveTransfer(session: InsurerSession, transfer: Transfer, outDir: string): Promise<Received> {
  const { claims, bundle, text } = await verifyAndOpen(session, transfer);
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  // Both files and their names on disk before the gateway is told the transfer arrived.
  await writeFilesDurably(outDir, [
    // The decrypted text exactly as the gateway sealed it, not re-serialised (a 19 KB stringify saved).
    { name: `${transfer.transferId}.bundle.json`, data: text },
    { name: `${transfer.transferId}.claims.json`, data: JSON.stringify({ ...claims, envelope: transfer.envelope }, null, 2) },
  ]);
  const bundlePath = join(outDir, `${transfer.transferId}.bundle.json`);
  const received: Received = { transferId: transfer.transferId, claims, bundle, bundlePath, envelope: transfer.envelope };
  try {
    await acknowledge(session, transfer);
  } catch (error) {
    if (!isTransient(error)) throw error;
    received.acknowledgementPending = describeError(error);
  }
  return received;
}

export async function acknowledge(session: InsurerSession, transfer: Pick<Transfer, 'transferId' | 'envelope'>): Promise<void> {
  const receipt = await signReceipt(
    {
      iss: session.identity.party.uri,
      aud: session.gatewayUri,
      jti: transfer.transferId,
      hdx: { envelopeDigest: envelopeDigestOf(transfer.envelope), receivedAt: new Date().toISOString() },
    },
    session.identity.signingKey,
  );
  const request = { idempotencyKey: `ack-${transfer.transferId}`, transferId: transfer.transferId, receipt };
  // Retried a little while only: a redelivery acknowledges it too, so the pull need not wait long.
  await retryUnavailable(() => acknowledgerOf(session)(request), { forMs: 5_000 });
}

/** Acknowledgements made in the same turn go out as one AcknowledgeTransfers call. */
const acknowledgers = new WeakMap<object, (a: AcknowledgeTransferRequest) => Promise<AcknowledgeTransferResponse>>();
function acknowledgerOf(session: InsurerSession) {
  const client = session.clients.delivery;
  let ack = acknowledgers.get(client);
  if (!ack) {
    ack = coalescing<AcknowledgeTransferRequest, AcknowledgeTransferResponse>(async (acknowledgements: AcknowledgeTransferRequest[]) => {
      const { results } = await unaryCall(client, client.acknowledgeTransfers, { acknowledgements });
      return results.map((r) => (r.acknowledged ? { value: r.acknowledged } : { refused: r.refused! }));
    });
    acknowledgers.set(client, ack);
  }
  return ack;
}
