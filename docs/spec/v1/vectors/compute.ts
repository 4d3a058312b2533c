/**
 * Computes every test vector of spec v1 from the committed keys and inputs with the project's own code.
 * `generate.ts` writes the result to vectors.json; test/spec/vectors.test.ts recomputes it and compares,
 * so the spec's vectors, the code and the document cannot drift apart.
 */
import { createPrivateKey, createPublicKey, type KeyObject } from 'node:crypto';
import { readFileSync } from 'node:fs';
import type { JWK } from 'jose';
import { canonicalJson, digestOf, digestOfJson } from '../../../../keys/canonical.js';
import {
  signConsentReceipt, signDecision, signReceipt, signSubmission, signTransferEnvelope,
} from '../../../../keys/formats/index.js';
import {
  createNoteSigner, formatVerifierKey, HDX_AUDIT_ORIGIN, inclusionProof, leafHash, MemorySubtreeSource, rootAt, signCheckpoint,
} from '../../../../keys/transparency/index.js';
import { termsForDigest, type ConsentTerms } from '../../../../gateway/consent/terms.js';

export const VECTORS_DIR = new URL('./', import.meta.url);
export const EXAMPLES_DIR = new URL('../examples/', import.meta.url);

export interface VectorKeys {
  hospital: JWK;
  gateway: JWK;
  insurer: JWK;
  /** PKCS#8 PEM of the audit log's Ed25519 key. */
  logKeyPem: string;
}

export const readJson = <T>(url: URL): T => JSON.parse(readFileSync(url, 'utf8')) as T;

const IAT = 1_790_000_000; // 2026-09-21T14:13:20Z
const HOSPITAL = 'spiffe://hdx.local/hospital/nanshan-people';
const GATEWAY = 'spiffe://hdx.local/gateway/gateway';
const INSURER = 'spiffe://hdx.local/insurer/taikang-online';

/** The consent terms a hospital sends (domain form of GrantConsentRequest.terms). */
export const EXAMPLE_TERMS: ConsentTerms = {
  insurerId: 'taikang-online',
  policyNumber: 'PL-2026-000123',
  purpose: 'DIRECT_SETTLEMENT',
  categories: ['encounter', 'diagnosis', 'procedure', 'medication', 'lab', 'charges'],
  hospitalIds: ['nanshan-people'],
  anyHospital: false,
  validFrom: new Date('2026-01-01T00:00:00.000Z'),
  validUntil: new Date('2027-01-01T00:00:00.000Z'),
  capture: {
    channel: 'deposit-desk',
    capturedAt: new Date('2026-09-21T06:30:15.123Z'),
    noticeVersion: 'v1',
    formDigest: 'sha256:47DEQpj8HBSa-_TImW-5JCeuQeRkm5NMpJWZG3hSuFU',
  },
};

const CANONICAL_INPUTS: unknown[] = [
  { b: 2, a: 1, c: { z: [3, 2, 1], y: null } },
  { amount: '9474.68', value: 9474.68, big: 1e21, small: 0.000001, neg: -0 },
  { 名: '张三', emoji: '\u{1F600}', esc: 'line\nbreak "quoted" \u0007' },
];

export async function computeVectors(keys: VectorKeys): Promise<Record<string, unknown>> {
  const bundleBytes = readFileSync(new URL('direct-settlement.json', EXAMPLES_DIR));
  const bundleDigest = digestOf(bundleBytes);
  const termsInput = termsForDigest(EXAMPLE_TERMS);
  const termsDigest = digestOfJson(termsInput);

  const submission = await signSubmission(
    { iss: HOSPITAL, aud: GATEWAY, jti: 'his-2026-0921-000017', iat: IAT, hdx: { bundleDigest, purpose: 'DIRECT_SETTLEMENT' } },
    keys.hospital,
  );
  const consentReceipt = await signConsentReceipt(
    { iss: GATEWAY, aud: HOSPITAL, jti: 'cns_01J8Z3Q4V5W6X7Y8Z9A0B1C2D3', iat: IAT, hdx: { action: 'granted', termsDigest, at: '2026-09-21T06:30:16.004Z' } },
    keys.gateway,
  );
  const payloadJwe = readFileSync(new URL('payload.jwe', VECTORS_DIR), 'utf8').trim();
  const envelope = await signTransferEnvelope(
    {
      iss: GATEWAY,
      aud: INSURER,
      sub: 'Yk3v9QmZr2L8xT0wE5uA1b',
      jti: 'trf_01J8Z3R7K2M4N6P8Q0S2T4V6W8',
      iat: IAT,
      hdx: {
        consent: 'cns_01J8Z3Q4V5W6X7Y8Z9A0B1C2D3',
        purpose: 'DIRECT_SETTLEMENT',
        categories: ['charges', 'diagnosis', 'encounter', 'lab', 'medication', 'procedure'],
        hospital: HOSPITAL,
        submission: 'sub_01J8Z3R6H1J3K5L7M9N1P3Q5R7',
        submittedAt: '2026-09-21T14:13:19.871Z',
        submissionDigest: bundleDigest,
        payloadDigest: digestOf(payloadJwe),
        payloadKid: (JSON.parse(Buffer.from(payloadJwe.split('.')[0]!, 'base64url').toString()) as { kid: string }).kid,
      },
    },
    keys.gateway,
  );
  const envelopeDigest = digestOf(envelope);
  const receipt = await signReceipt(
    { iss: INSURER, aud: GATEWAY, jti: 'trf_01J8Z3R7K2M4N6P8Q0S2T4V6W8', iat: IAT + 2, hdx: { envelopeDigest, receivedAt: '2026-09-21T14:13:21.530Z' } },
    keys.insurer,
  );
  const decision = await signDecision(
    {
      iss: INSURER,
      aud: GATEWAY,
      jti: 'dec-2026-000042',
      iat: IAT + 3,
      hdx: {
        transfer: 'trf_01J8Z3R7K2M4N6P8Q0S2T4V6W8',
        submission: 'sub_01J8Z3R6H1J3K5L7M9N1P3Q5R7',
        envelopeDigest,
        outcome: 'approved',
        currency: 'CNY',
        amounts: { totalCharges: '9474.68', socialInsurancePaid: '6159.54', patientPaid: '3315.14', payable: '2803.63', patientRemainder: '511.51' },
        adjustments: [],
        reasons: ['deductible', 'coverage-ratio'],
        explanation: '本次费用合计9474.68元，医保已支付6159.54元，个人负担3315.14元。扣除免赔额200.00元后按90%赔付，本公司支付2803.63元，您还需支付511.51元。',
        decidedAt: '2026-09-21T14:13:22.118Z',
      },
    },
    keys.insurer,
  );

  // Audit log: three events, their leaves, the tree, one inclusion proof and a signed checkpoint.
  const events: Array<Record<string, unknown>> = [
    { v: 1, seq: 0, at: '2026-09-21T06:30:16.004Z', prev: '', action: 'consent.grant', actor: 'nanshan-people', outcome: 'ok', consent: 'cns_01J8Z3Q4V5W6X7Y8Z9A0B1C2D3', details: { termsDigest } },
  ];
  const leaves = [leafHash(Buffer.from(canonicalJson(events[0]), 'utf8'))];
  for (let seq = 1; seq < 5; seq++) {
    const event = { v: 1, seq, at: `2026-09-21T14:13:2${seq}.000Z`, prev: leaves[seq - 1]!.toString('base64'), action: 'audit.query', actor: 'szdex', outcome: 'ok', details: { kind: 'vector' } };
    events.push(event);
    leaves.push(leafHash(Buffer.from(canonicalJson(event), 'utf8')));
  }
  const tree = new MemorySubtreeSource(leaves);
  const rootHash = rootAt(tree, leaves.length);
  const logKey: KeyObject = createPrivateKey(keys.logKeyPem);
  const checkpoint = signCheckpoint({ origin: HDX_AUDIT_ORIGIN, size: leaves.length, rootHash }, createNoteSigner(HDX_AUDIT_ORIGIN, logKey));

  return {
    about: 'hdx exchange profile v1 test vectors; see ../signed-objects.md. Regenerate with `npx tsx docs/spec/v1/vectors/generate.ts`.',
    canonicalization: CANONICAL_INPUTS.map((input) => ({ input, canonical: canonicalJson(input), digest: digestOfJson(input) })),
    bundleDigest: { file: 'examples/direct-settlement.json', digest: bundleDigest },
    termsDigest: { terms: EXAMPLE_TERMS, digestInput: termsInput, canonical: canonicalJson(termsInput), digest: termsDigest },
    tokens: {
      submission,
      consentReceipt,
      transferEnvelope: envelope,
      payload: { file: 'vectors/payload.jwe', digest: digestOf(payloadJwe), plaintextFile: 'examples/deidentified.json' },
      receipt,
      decision,
    },
    digests: { envelopeDigest, decisionDigest: digestOf(decision), submissionSignatureDigest: digestOf(submission) },
    audit: {
      events: events.map((event, i) => ({ event, canonical: canonicalJson(event), leafHash: leaves[i]!.toString('base64') })),
      rootHash: rootHash.toString('base64'),
      inclusion: { leafIndex: 2, treeSize: leaves.length, proof: inclusionProof(tree, 2, leaves.length).map((h) => h.toString('base64')) },
      checkpoint,
      logVerifierKey: formatVerifierKey(HDX_AUDIT_ORIGIN, createPublicKey(logKey)),
    },
  };
}
