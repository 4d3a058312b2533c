/**
 * Writes spec v1's examples and vectors: `npx tsx docs/spec/v1/vectors/generate.ts`. Keys (keys.json),
 * examples and the payload JWE are made once and kept (a JWE is randomised: regenerating it would change
 * every digest over it); pass `--fresh` to make them anew. vectors.json is always recomputed.
 */
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, writeFileSync } from 'node:fs';
import { generateEncryptionKey, generateSigningKey } from '../../../../keys/jose-keys.js';
import { sealPayload } from '../../../../keys/formats/index.js';
import { createDeidentifier } from '../../../../gateway/deid/index.js';
import { applyMappings, DEFAULT_INTAKE, LEGACY_SOCIAL_INSURANCE_PAID_URL, NATIONAL_ID_OID, stayAmounts, type Json } from '../../../../profile/index.js';
import { createGenerator } from '../../../../synthetic/index.js';
import { computeVectors, EXAMPLES_DIR, readJson, VECTORS_DIR, type VectorKeys } from './compute.js';

const fresh = process.argv.includes('--fresh');
const at = (dir: URL, name: string) => new URL(name, dir);
const write = (url: URL, value: unknown) => writeFileSync(url, typeof value === 'string' ? value : `${JSON.stringify(value, null, 2)}\n`);

if (fresh || !existsSync(at(VECTORS_DIR, 'keys.json'))) {
  const keys: VectorKeys & { insurerEncryption: unknown } = {
    hospital: generateSigningKey('EdDSA').privateJwk,
    gateway: generateSigningKey('EdDSA').privateJwk,
    insurer: generateSigningKey('EdDSA').privateJwk,
    insurerEncryption: generateEncryptionKey('ECDH-ES+A256KW', 'P-256').privateJwk,
    logKeyPem: generateKeyPairSync('ed25519').privateKey.export({ format: 'pem', type: 'pkcs8' }).toString(),
  };
  write(at(VECTORS_DIR, 'keys.json'), keys);
}

if (fresh || !existsSync(at(EXAMPLES_DIR, 'direct-settlement.json'))) {
  const gen = createGenerator(20260921);
  const record = gen.dischargeRecord({ hospitalId: 'nanshan-people', dischargeDate: new Date('2026-09-20T02:00:00Z'), encounterClass: 'IMP' });
  const standard = structuredClone(record.bundle) as unknown as Json;
  const entries = (standard['entry'] as Array<{ resource: Json }>).map((e) => e.resource);
  ((entries.find((r) => r['resourceType'] === 'Patient')!['identifier'] as Json[])[0]!)['system'] = NATIONAL_ID_OID;
  ((entries.find((r) => r['resourceType'] === 'Patient')!['identifier'] as Json[])[0]!)['type'] = {
    coding: [{ system: 'http://terminology.hl7.org/CodeSystem/v2-0203', code: 'NNCHN', display: 'National Person Identifier where the xxx is the ISO table 3166 3-character (alphabetic) country code' }],
    text: '居民身份证',
  };
  // The 医保 share as the standard EOB, not hdx's old extension; then the patient's share beside it.
  applyMappings(standard, DEFAULT_INTAKE, 'nanshan-people', stayAmounts(standard));
  for (const r of entries) if (Array.isArray(r['extension'])) r['extension'] = (r['extension'] as Json[]).filter((e) => e['url'] !== LEGACY_SOCIAL_INSURANCE_PAID_URL);
  for (const r of entries) if (Array.isArray(r['extension']) && (r['extension'] as Json[]).length === 0) delete r['extension'];
  const eob = (standard['entry'] as Array<{ resource: Json }>).map((e) => e.resource).find((r) => r['resourceType'] === 'ExplanationOfBenefit')!;
  const amounts = stayAmounts(standard);
  eob['id'] = 'yb-settlement-1';
  eob['total'] = [
    { category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/adjudication', code: 'submitted', display: 'Submitted Amount' }] }, amount: { value: amounts.totalCharges! / 100, currency: 'CNY' } },
    ...(eob['total'] as Json[]),
    { category: { coding: [{ system: 'https://hdx.local/spec/v1/CodeSystem/adjudication', code: 'patient-pay', display: '个人负担' }] }, amount: { value: (amounts.totalCharges! - amounts.socialInsurancePaid!) / 100, currency: 'CNY' } },
  ];
  write(at(EXAMPLES_DIR, 'direct-settlement.json'), standard);

  // The same stay as a hospital's HIS exports it: the 医保 share in its own extension, and the intake file mapping it.
  const own = structuredClone(record.bundle) as unknown as Json;
  for (const r of (own['entry'] as Array<{ resource: Json }>).map((e) => e.resource)) {
    for (const ext of (r['extension'] as Json[] | undefined) ?? []) {
      if (ext['url'] === LEGACY_SOCIAL_INSURANCE_PAID_URL) ext['url'] = 'https://his.nanshan-people.example.cn/fhir/StructureDefinition/yb-tczf';
    }
  }
  write(at(EXAMPLES_DIR, 'hospital-extension.json'), own);
  write(at(EXAMPLES_DIR, 'intake.json'), {
    version: 1,
    residentId: { systems: [NATIONAL_ID_OID, 'urn:oid:2.16.156.10011.1.1'], typeCodes: ['NNCHN'] },
    mappings: [{ element: 'socialInsurancePaid', hospitals: ['nanshan-people'], resourceType: 'Coverage', extension: 'https://his.nanshan-people.example.cn/fhir/StructureDefinition/yb-tczf' }],
  });

  // What the insurer decrypts: the bundle de-identified for direct settlement (test keys), then sealed.
  const keys = readJson<{ insurerEncryption: { kid: string } & Record<string, unknown> }>(at(VECTORS_DIR, 'keys.json'));
  const deid = createDeidentifier();
  const out = deid.deidentify(standard, {
    purpose: 'DIRECT_SETTLEMENT',
    categories: ['encounter', 'diagnosis', 'procedure', 'medication', 'lab', 'charges'],
    pseudonym: 'Yk3v9QmZr2L8xT0wE5uA1b',
    policyNumber: 'PL-2026-000123',
    keys: { cryptoHashKey: 'vector-crypto-hash-key', dateShiftKey: 'vector-date-shift-key', encryptKey: 'vector-encrypt-key-32-bytes-long' },
    hospitalIdentifierSystems: [],
  });
  const plaintext = JSON.stringify(out.bundle);
  write(at(EXAMPLES_DIR, 'deidentified.json'), plaintext);
  const { d: _d, ...publicJwk } = keys.insurerEncryption as Record<string, unknown>;
  void _d;
  write(at(VECTORS_DIR, 'payload.jwe'), `${await sealPayload(Buffer.from(plaintext), publicJwk)}\n`);
}

write(at(VECTORS_DIR, 'vectors.json'), await computeVectors(readJson<VectorKeys>(at(VECTORS_DIR, 'keys.json'))));
process.stdout.write('docs/spec/v1/vectors/vectors.json written\n');
