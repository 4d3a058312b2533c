/**
 * Receiving one transfer, in the order that makes it safe: verify the gateway's signature and that we
 * are the audience, check the payload against the signed digest, decrypt with our own key, write the
 * bundle and claims durably, and only then acknowledge with a signed receipt. A transfer that fails any
 * step is not written and not acknowledged (the gateway will offer it again; we report it).
 */
import { randomUUID } from 'node:crypto';
import { mkdirSync } from 'node:fs';
import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { envelopeDigestOf, signReceipt } from '../keys/formats/receipt.js';
import { openPayload } from '../keys/formats/payload.js';
import { verifyTransferEnvelope, type TransferEnvelopeClaims } from '../keys/formats/transfer-envelope.js';
import type { AcknowledgeTransferRequest, AcknowledgeTransferResponse, Transfer } from '../proto/gen/hdx/v1/delivery.js';
import { coalescing } from '../proto/coalesce.js';
import { unaryCall } from '../proto/connect.js';
import type { InsurerSession } from './session.js';

export interface Received {
  transferId: string;
  claims: TransferEnvelopeClaims;
  bundle: Record<string, unknown>;
  bundlePath: string;
  /** The gateway's envelope JWS, as received (a decision names its digest). */
  envelope: string;
}

/**
 * Writes a file so that it is either wholly there or not at all: its content is on disk once resolved,
 * its name once `syncDir` of its folder has resolved too. Asynchronous: the fsyncs run in libuv's pool, so
 * transfers received at once overlap their disk waits.
 */
export async function writeDurably(path: string, data: string): Promise<void> {
  const temp = `${path}.tmp-${process.pid}-${randomUUID()}`;
  const handle = await open(temp, 'w', 0o600);
  try {
    await handle.writeFile(data);
    await handle.datasync();
  } finally {
    await handle.close();
  }
  await rename(temp, path);
}

/** Makes the renames into `dir` durable (without it a power cut can lose a file already acknowledged). */
export async function syncDir(dir: string): Promise<void> {
  const handle = await open(dir, 'r');
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
}

export async function verifyAndOpen(session: InsurerSession, transfer: Transfer) {
  const claims = await verifyTransferEnvelope(transfer.envelope, session.gatewayJwks, {
    audience: session.identity.party.uri,
    issuer: session.gatewayUri,
    payload: transfer.payload,
  });
  if (claims.jti !== transfer.transferId) throw new Error('envelope names another transfer');
  const keys = [session.identity.encryptionKey!, ...session.identity.previousEncryptionKeys];
  const text = Buffer.from(await openPayload(transfer.payload, keys)).toString('utf8');
  const bundle = JSON.parse(text) as Record<string, unknown>;
  return { claims, bundle, text };
}

export async function receiveTransfer(session: InsurerSession, transfer: Transfer, outDir: string): Promise<Received> {
  const { claims, bundle, text } = await verifyAndOpen(session, transfer);
  mkdirSync(outDir, { recursive: true, mode: 0o700 });
  const bundlePath = join(outDir, `${transfer.transferId}.bundle.json`);
  await Promise.all([
    // The decrypted text exactly as the gateway sealed it, not re-serialised (a 19 KB stringify saved).
    writeDurably(bundlePath, text),
    writeDurably(join(outDir, `${transfer.transferId}.claims.json`), JSON.stringify({ ...claims, envelope: transfer.envelope }, null, 2)),
  ]);
  // Both names on disk before the gateway is told the transfer arrived.
  await syncDir(outDir);
  await acknowledge(session, transfer);
  return { transferId: transfer.transferId, claims, bundle, bundlePath, envelope: transfer.envelope };
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
  await acknowledgerOf(session)({ idempotencyKey: `ack-${transfer.transferId}`, transferId: transfer.transferId, receipt });
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
