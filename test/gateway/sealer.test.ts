/**
 * The sealing pool on real worker threads: seals asked for in one turn travel as one message per worker,
 * each result opens and verifies, bundles shared by several tasks cross once, and a task that fails
 * fails alone.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openPayload } from '../../keys/formats/payload.js';
import { verifyTransferEnvelope } from '../../keys/formats/transfer-envelope.js';
import { generateEncryptionKey, generateSigningKey, type JwkPair } from '../../keys/jose-keys.js';
import { createGenerator } from '../../synthetic/index.js';
import type { SealTask } from '../../gateway/seal/seal-task.js';
import { createSealer, type Sealer } from '../../gateway/seal/sealer.js';
import { digestOf } from '../../keys/canonical.js';

const GATEWAY = 'spiffe://hdx.local/gateway/gateway';
const INSURER = 'spiffe://hdx.local/insurer/taikang-online';
const HOSPITAL = 'spiffe://hdx.local/hospital/nanshan-people';

let signing: JwkPair;
let encryption: JwkPair;
let sealer: Sealer;

beforeAll(() => {
  signing = generateSigningKey('ES256');
  encryption = generateEncryptionKey('ECDH-ES+A256KW', 'X25519');
  sealer = createSealer({ signingJwk: signing.privateJwk, workers: 2 });
});
afterAll(() => sealer.close());

const generator = createGenerator(11);

function taskFor(bundle: Uint8Array, n: number, pseudonym = `pseud-${n}`): SealTask {
  return {
    bundle,
    deid: {
      purpose: 'DIRECT_SETTLEMENT',
      categories: ['encounter', 'diagnosis', 'charges'],
      pseudonym,
      policyNumber: 'POL-0001',
      keys: { cryptoHashKey: 'a'.repeat(43), dateShiftKey: 'b'.repeat(43), encryptKey: 'c'.repeat(43) },
    },
    recipientJwk: encryption.publicJwk,
    claims: {
      iss: GATEWAY,
      aud: INSURER,
      sub: pseudonym,
      jti: `trf-${n}`,
      hdx: {
        consent: `cs-${n}`,
        purpose: 'DIRECT_SETTLEMENT',
        categories: ['charges', 'diagnosis', 'encounter'],
        hospital: HOSPITAL,
        submission: `sub-${n}`,
        submittedAt: new Date().toISOString(),
        submissionDigest: digestOf(bundle),
      },
    },
  };
}

describe('sealing pool', () => {
  it('seals a burst in one message per worker; every JWE opens and every envelope verifies', async () => {
    const bundles = Array.from({ length: 6 }, () => new TextEncoder().encode(JSON.stringify(generator.dischargeRecord({ hospitalId: 'nanshan-people' }).bundle)));
    const before = sealer.stats();
    // Two tasks per bundle, as for a record with two consenting insurers: the bundle crosses once.
    const results = await Promise.all(bundles.flatMap((b, i) => [sealer.seal(taskFor(b, 2 * i)), sealer.seal(taskFor(b, 2 * i + 1))]));
    const after = sealer.stats();
    expect(after.tasks - before.tasks).toBe(12);
    expect(after.messages - before.messages).toBe(2);
    for (const [i, r] of results.entries()) {
      const plain = JSON.parse(Buffer.from(await openPayload(r.payload, encryption.privateJwk)).toString('utf8'));
      expect(plain.resourceType).toBe('Bundle');
      const claims = await verifyTransferEnvelope(r.envelope, { keys: [signing.publicJwk] }, { audience: INSURER, payload: r.payload });
      expect(claims.jti).toBe(`trf-${i}`);
      expect(r.envelopeDigest).toBe(digestOf(r.envelope));
    }
    // The caller's bytes are untouched (the copy moved, not the original).
    expect(JSON.parse(Buffer.from(bundles[0]!).toString('utf8')).resourceType).toBe('Bundle');
  });

  it('a failing task fails alone; the rest of its message is sealed', async () => {
    const bundle = new TextEncoder().encode(JSON.stringify(generator.dischargeRecord({ hospitalId: 'nanshan-people' }).bundle));
    const notABundle = new TextEncoder().encode(JSON.stringify({ resourceType: 'Patient' }));
    const outcomes = await Promise.allSettled([
      sealer.seal(taskFor(bundle, 1)),
      sealer.seal(taskFor(notABundle, 2)),
      sealer.seal(taskFor(bundle, 3, 'not a FHIR id!')),
      sealer.seal(taskFor(bundle, 4)),
    ]);
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'rejected', 'rejected', 'fulfilled']);
    const refused = outcomes[1] as PromiseRejectedResult;
    expect(String(refused.reason?.message)).toMatch(/not a FHIR Bundle/);
  });
});
