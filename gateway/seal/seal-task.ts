/**
 * One transfer's CPU-heavy work, as a pure function of its inputs so it runs the same in a worker
 * thread or in-process: de-identify for the insurer, encrypt the result to the insurer's key (JWE),
 * and sign the envelope that binds sender, recipient, consent and the ciphertext's digest.
 */
import type { JWK } from 'jose';
import { digestOf } from '../../keys/canonical.js';
import { importRecipientKey, sealPayloadWith, type RecipientKey } from '../../keys/formats/payload.js';
import { payloadDigestOf, signTransferEnvelope, type TransferEnvelopeClaims } from '../../keys/formats/transfer-envelope.js';
import { stayAmounts } from '../../profile/amounts.js';
import { applyMappings, type IntakeConfig } from '../../profile/intake.js';
import type { DeidContext, Deidentifier, DeidReport } from '../deid/index.js';

export interface SealTask {
  /** The validated bundle as submitted (UTF-8 JSON); moved, not copied, to a worker (`sealer.ts`). */
  bundle: Uint8Array;
  /**
   * Set when validation filled in an amount through an intake mapping: the bundle is sealed with that
   * amount, filled in here the same way on this task's own parse, so the gateway need not re-serialise
   * the bundle on its event loop.
   */
  mapping?: { intake: IntakeConfig; hospitalId: string };
  deid: DeidContext;
  recipientJwk: JWK;
  claims: Omit<TransferEnvelopeClaims, 'iat' | 'hdx'> & {
    hdx: Omit<TransferEnvelopeClaims['hdx'], 'payloadDigest' | 'payloadKid'>;
  };
}

export interface SealResult {
  payload: string;
  envelope: string;
  envelopeDigest: string;
  payloadDigest: string;
  report: DeidReport;
}

/**
 * Insurers' public keys, imported once per thread. A task's JWK arrives as a fresh copy (structured
 * clone), so the identity-keyed cache inside `sealPayload` would miss on every task; key by content.
 */
const recipients = new Map<string, Promise<RecipientKey>>();

function recipientKey(jwk: JWK): Promise<RecipientKey> {
  const id = [jwk.kid, jwk.alg, jwk.kty, jwk.crv, jwk.x, jwk.y, jwk.n, jwk.e].join('|');
  let key = recipients.get(id);
  if (!key) {
    key = importRecipientKey(jwk);
    recipients.set(id, key);
    key.catch(() => recipients.delete(id));
  }
  return key;
}

export async function runSealTask(task: SealTask, deidentifier: Deidentifier, signingJwk: JWK): Promise<SealResult> {
  const submitted = JSON.parse(Buffer.from(task.bundle.buffer, task.bundle.byteOffset, task.bundle.byteLength).toString('utf8'));
  if (task.mapping) {
    applyMappings(submitted, task.mapping.intake, task.mapping.hospitalId, stayAmounts(submitted));
  }
  const { bundle, report } = deidentifier.deidentify(submitted, task.deid);
  const payload = await sealPayloadWith(Buffer.from(JSON.stringify(bundle), 'utf8'), await recipientKey(task.recipientJwk));
  const payloadDigest = payloadDigestOf(payload);
  const kid = task.recipientJwk.kid;
  if (!kid) throw new TypeError('recipient key has no kid');
  const envelope = await signTransferEnvelope(
    { ...task.claims, hdx: { ...task.claims.hdx, payloadDigest, payloadKid: kid } },
    signingJwk,
  );
  return { payload, envelope, envelopeDigest: digestOf(envelope), payloadDigest, report };
}
