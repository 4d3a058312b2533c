/**
 * Spec v1's vectors (docs/spec/v1/vectors) recomputed with the project's code: the canonical forms and
 * digests, every signed object byte for byte (EdDSA is deterministic), the payload JWE opened, the audit
 * leaves, tree, inclusion proof and checkpoint; and the examples checked against the input profile.
 */
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { JWK } from 'jose';
import { digestOf } from '../../keys/canonical.js';
import { publicJwkOf } from '../../keys/jose-keys.js';
import {
  openPayload, verifyConsentReceipt, verifyDecision, verifyReceipt, verifySubmission, verifyTransferEnvelope,
} from '../../keys/formats/index.js';
import { HDX_AUDIT_ORIGIN, parseVerifierKey, verifyCheckpoint, verifyInclusion } from '../../keys/transparency/index.js';
import { loadIntakeConfig, validateDischargeBundle } from '../../profile/index.js';
import { computeVectors, EXAMPLES_DIR, readJson, VECTORS_DIR, type VectorKeys } from '../../docs/spec/v1/vectors/compute.js';

const keys = readJson<VectorKeys & { insurerEncryption: JWK }>(new URL('keys.json', VECTORS_DIR));
const vectors = readJson<Record<string, any>>(new URL('vectors.json', VECTORS_DIR));
const jwks = (jwk: JWK) => ({ keys: [publicJwkOf(jwk)] });
const at = (iat: number) => ({ currentDate: new Date(iat * 1000) });
const GATEWAY = 'spiffe://hdx.local/gateway/gateway';

describe('spec v1 vectors', () => {
  it('are what the code computes, byte for byte', async () => {
    // As written to vectors.json (Dates as RFC 3339 strings).
    expect(JSON.parse(JSON.stringify(await computeVectors(keys)))).toEqual(vectors);
  });

  it('verify with the verifiers a party runs, in the spec’s order', async () => {
    const t = vectors['tokens'];
    const bundle = readFileSync(new URL('direct-settlement.json', EXAMPLES_DIR));
    const payload = readFileSync(new URL('payload.jwe', VECTORS_DIR), 'utf8').trim();
    const submission = await verifySubmission(t.submission, jwks(keys.hospital), { audience: GATEWAY, bundle, ...at(1_790_000_000) });
    expect(submission.hdx).toEqual({ bundleDigest: vectors['bundleDigest'].digest, purpose: 'DIRECT_SETTLEMENT' });
    const receipt = await verifyConsentReceipt(t.consentReceipt, jwks(keys.gateway), {
      audience: 'spiffe://hdx.local/hospital/nanshan-people', termsDigest: vectors['termsDigest'].digest, ...at(1_790_000_000),
    });
    expect(receipt.hdx.action).toBe('granted');
    const envelope = await verifyTransferEnvelope(t.transferEnvelope, jwks(keys.gateway), {
      audience: 'spiffe://hdx.local/insurer/taikang-online', payload, ...at(1_790_000_000),
    });
    expect(envelope.hdx.submissionDigest).toBe(vectors['bundleDigest'].digest);
    await verifyReceipt(t.receipt, jwks(keys.insurer), { audience: GATEWAY, envelope: t.transferEnvelope, ...at(1_790_000_002) });
    const decision = await verifyDecision(t.decision, jwks(keys.insurer), { audience: GATEWAY, envelopeDigest: digestOf(t.transferEnvelope), ...at(1_790_000_003) });
    expect(decision.hdx.outcome).toBe('approved');
  });

  it('a payload the insurer opens to the de-identified example', async () => {
    const payload = readFileSync(new URL('payload.jwe', VECTORS_DIR), 'utf8').trim();
    const plaintext = await openPayload(payload, keys.insurerEncryption);
    expect(Buffer.from(plaintext).toString('utf8')).toBe(readFileSync(new URL('deidentified.json', EXAMPLES_DIR), 'utf8'));
    expect(digestOf(payload)).toBe(vectors['tokens'].payload.digest);
  });

  it('an audit checkpoint and inclusion proof a regulator checks', () => {
    const audit = vectors['audit'];
    const checkpoint = verifyCheckpoint(audit.checkpoint, parseVerifierKey(audit.logVerifierKey), HDX_AUDIT_ORIGIN);
    expect(checkpoint.size).toBe(5);
    expect(checkpoint.rootHash.toString('base64')).toBe(audit.rootHash);
    const { leafIndex, treeSize, proof } = audit.inclusion;
    expect(() =>
      verifyInclusion(leafIndex, treeSize, Buffer.from(audit.events[leafIndex].leafHash, 'base64'), proof.map((p: string) => Buffer.from(p, 'base64')), checkpoint.rootHash),
    ).not.toThrow();
  });
});

describe('spec v1 examples', () => {
  it('the direct-settlement bundle meets the profile as it is, with the national OID and the 医保 EOB', () => {
    const bundle = readJson(new URL('direct-settlement.json', EXAMPLES_DIR));
    const result = validateDischargeBundle(bundle, { purpose: 'DIRECT_SETTLEMENT' });
    expect(result.problems).toEqual([]);
    expect(result.mapped).toEqual([]);
    expect(result.amounts.patientPaid).toBe(result.amounts.totalCharges! - result.amounts.socialInsurancePaid!);
  });

  it('the hospital-extension bundle meets it only through the example intake file', () => {
    const intake = loadIntakeConfig(new URL('intake.json', EXAMPLES_DIR).pathname);
    const bundle = () => readJson(new URL('hospital-extension.json', EXAMPLES_DIR));
    expect(validateDischargeBundle(bundle(), { purpose: 'DIRECT_SETTLEMENT' }).problems).toHaveLength(1);
    const result = validateDischargeBundle(bundle(), { purpose: 'DIRECT_SETTLEMENT', config: intake, hospitalId: 'nanshan-people' });
    expect(result.problems).toEqual([]);
    expect(result.mapped).toEqual(['socialInsurancePaid']);
  });
});
