/**
 * The gateway's de-identification over generated discharge records: nothing planted leaks, what
 * adjudication needs survives, consent categories prune, pseudonyms differ per insurer.
 */
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { InvalidInput } from '../../gateway/errors.js';
import { createDeidentifier, type DataCategory, type DeidContext } from '../../gateway/deid/index.js';
import { createGenerator, identifiersInAnyForm } from '../../synthetic/index.js';

type Json = Record<string, any>;

const ALL: DataCategory[] = ['encounter', 'diagnosis', 'procedure', 'medication', 'lab', 'charges', 'notes'];
const HOSPITAL = 'nanshan-people';
const SYSTEMS = [`https://${HOSPITAL}.hospital.hdx.local/mrn`, `https://${HOSPITAL}.hospital.hdx.local/visit`];

function context(overrides: Partial<DeidContext> = {}): DeidContext {
  return {
    purpose: 'DIRECT_SETTLEMENT',
    categories: ALL,
    pseudonym: '0f3c9a1b2d4e5f60718293a4b5c6d7e8',
    policyNumber: 'P2024-7781234567',
    keys: { cryptoHashKey: 'insurer-a-hash-key', dateShiftKey: 'insurer-a-shift-key', encryptKey: Buffer.alloc(32, 7).toString('base64') },
    hospitalIdentifierSystems: SYSTEMS,
    ...overrides,
  };
}

const deidentifier = createDeidentifier();

function resourcesOf(bundle: Json, type?: string): Json[] {
  return (bundle['entry'] as Json[]).map((entry) => entry['resource'] as Json).filter((r) => type === undefined || r['resourceType'] === type);
}

describe('leak test: planted identifiers never reach the claim-settlement output', () => {
  const generator = createGenerator(20241121);
  const RECORDS = 1000;

  it(`over ${RECORDS} records with awkward identifiers and notes, with and without the notes category`, () => {
    const leaks: string[] = [];
    let scrubbed = 0;
    for (let i = 0; i < RECORDS; i++) {
      const record = generator.dischargeRecord({ hospitalId: HOSPITAL, withNote: true, plantAwkwardIdentifiers: true });
      for (const categories of [ALL, ALL.filter((c) => c !== 'notes')]) {
        const { bundle, report } = deidentifier.deidentify(record.bundle, context({ categories }));
        // Keyed hashes are 64 hex digits: a short numeric identifier could occur inside one by chance.
        const text = JSON.stringify(bundle).replace(/[0-9a-f]{64}/g, '#');
        // Notes travel base64-encoded: look inside them too.
        const notes = resourcesOf(bundle, 'DocumentReference').flatMap((doc) =>
          (doc['content'] ?? []).map((c: Json) => Buffer.from(String(c['attachment']?.['data'] ?? ''), 'base64').toString('utf8')),
        );
        const reportText = JSON.stringify(report);
        for (const identifier of record.identifiers) {
          if (text.includes(identifier) || notes.some((note) => note.includes(identifier)) || reportText.includes(identifier)) {
            leaks.push(`record ${i}: ${identifier.length}-character identifier (notes ${categories.includes('notes')})`);
          }
        }
        scrubbed += Object.values(report.detectors).reduce((a, b) => a + b, 0);
      }
    }
    expect(leaks).toEqual([]);
    expect(scrubbed).toBeGreaterThan(RECORDS); // the notes really were scrubbed, not just dropped
  }, 120_000);
});

describe('leak test: identifiers in every written form', () => {
  const generator = createGenerator(20261202);
  const RECORDS = 300;

  it(`over ${RECORDS} records with the patient's values full-width, spaced, hyphenated and split in notes`, () => {
    const leaks: string[] = [];
    for (let i = 0; i < RECORDS; i++) {
      const record = generator.dischargeRecord({ hospitalId: HOSPITAL, withNote: true, plantAwkwardIdentifiers: true, plantVariantForms: true });
      const { bundle, report } = deidentifier.deidentify(record.bundle, context());
      const notes = resourcesOf(bundle, 'DocumentReference').flatMap((doc) =>
        (doc['content'] ?? []).map((c: Json) => Buffer.from(String(c['attachment']?.['data'] ?? ''), 'base64').toString('utf8')),
      );
      const output = [JSON.stringify(bundle), ...notes, JSON.stringify(report)].join('\n');
      // Names are the shortest values: a two-character name is looked for as written and in its forms.
      for (const found of identifiersInAnyForm(output, record.identifiers)) {
        leaks.push(`record ${i}: a ${found.length}-character identifier in some written form`);
      }
    }
    expect(leaks).toEqual([]);
  }, 120_000);
});

describe('claim-settlement keeps what adjudication needs', () => {
  const generator = createGenerator(7);
  const record = generator.dischargeRecord({ hospitalId: HOSPITAL, withNote: true });
  const input = structuredClone(record.bundle);
  const { bundle, report } = deidentifier.deidentify(record.bundle, context());
  const source = record.bundle as unknown as Json;

  it('does not modify its input', () => {
    expect(record.bundle).toEqual(input);
  });

  it('keeps every diagnosis, procedure, medication and lab code', () => {
    const codes = (json: Json, type: string, element: string) =>
      resourcesOf(json, type).flatMap((r) => (r[element]?.coding ?? []).map((c: Json) => `${c['system']}|${c['code']}`)).sort();
    for (const [type, element] of [['Condition', 'code'], ['Procedure', 'code'], ['MedicationRequest', 'medicationCodeableConcept'], ['Observation', 'code'], ['ChargeItem', 'code']] as const) {
      expect(codes(bundle, type, element), type).toEqual(codes(source, type, element));
    }
  });

  it('keeps the dates of service', () => {
    const encounter = resourcesOf(bundle, 'Encounter')[0]!;
    expect(encounter['period']).toEqual({ start: record.serviceStart, end: record.serviceEnd });
    const occurrences = (json: Json) => resourcesOf(json, 'ChargeItem').map((c) => c['occurrenceDateTime'] ?? c['occurrencePeriod']);
    expect(occurrences(bundle)).toEqual(occurrences(source));
    expect(resourcesOf(bundle, 'Observation').map((o) => o['effectiveDateTime'])).toEqual(resourcesOf(source, 'Observation').map((o) => o['effectiveDateTime']));
  });

  it('keeps charge items, amounts, the invoice totals and the 医保 share', () => {
    const charges = resourcesOf(bundle, 'ChargeItem');
    expect(charges).toHaveLength(resourcesOf(source, 'ChargeItem').length);
    const total = charges.reduce((sum, c) => sum + Math.round(c['priceOverride']['value'] * 100), 0) / 100;
    expect(total).toBeCloseTo(record.totalCharges, 2);
    const invoice = resourcesOf(bundle, 'Invoice')[0]!;
    expect(invoice['totalGross']).toEqual({ value: record.totalCharges, currency: 'CNY' });
    expect(invoice['lineItem']).toHaveLength(charges.length);
    const social = resourcesOf(bundle, 'Coverage').find((c) => c['type']?.coding?.[0]?.code === 'social-medical-insurance')!;
    expect(social['extension']).toEqual([
      { url: 'https://hdx.local/fhir/StructureDefinition/social-insurance-paid', valueMoney: { value: record.socialInsurancePaid, currency: 'CNY' } },
    ]);
  });

  it('carries the policy number on the commercial Coverage and the pseudonym everywhere the patient is referenced', () => {
    const commercial = resourcesOf(bundle, 'Coverage').find((c) => c['type']?.coding?.[0]?.code === 'commercial-health-insurance')!;
    expect(commercial['identifier']).toEqual([{ system: 'urn:hdx:policy-number', value: 'P2024-7781234567' }]);
    expect(commercial['period']).toEqual(resourcesOf(source, 'Coverage')[1]!['period']);
    const patient = resourcesOf(bundle, 'Patient')[0]!;
    expect(patient['id']).toBe('0f3c9a1b2d4e5f60718293a4b5c6d7e8');
    const subjects = resourcesOf(bundle).map((r) => r['subject']?.['reference'] ?? r['beneficiary']?.['reference']).filter(Boolean);
    expect(subjects.length).toBeGreaterThan(15);
    expect(new Set(subjects)).toEqual(new Set(['Patient/0f3c9a1b2d4e5f60718293a4b5c6d7e8']));
  });

  it('keeps gender, birth year and city, nothing else of the patient', () => {
    const patient = resourcesOf(bundle, 'Patient')[0]!;
    const { meta, ...rest } = patient;
    expect(rest).toEqual({
      resourceType: 'Patient',
      id: '0f3c9a1b2d4e5f60718293a4b5c6d7e8',
      gender: record.patient.gender,
      birthDate: record.patient.birthDate.slice(0, 4),
      address: [{ city: record.patient.address.city, state: record.patient.address.province, country: 'CN' }],
    });
    expect(meta.security.map((s: Json) => s['code'])).toEqual(['REDACTED', 'GENERALIZED']);
  });

  it('keeps references resolvable inside the bundle', () => {
    const ids = new Set(resourcesOf(bundle).map((r) => `${r['resourceType']}/${r['id']}`));
    const references: string[] = [];
    JSON.stringify(bundle, (key, value) => {
      if (key === 'reference' && typeof value === 'string') references.push(value);
      return value;
    });
    expect(references.length).toBeGreaterThan(20);
    for (const reference of references) expect(ids.has(reference), reference).toBe(true);
  });

  it('reports counts, not values', () => {
    expect(report.profile).toBe('claim-settlement');
    expect(report.resourcesIn).toBe(record.bundle.entry.length);
    expect(report.resourcesOut).toBe(record.bundle.entry.length);
    expect(report.methods['cryptoHash']).toBeGreaterThan(0);
    expect(report.methods['pseudonym']).toBeGreaterThan(0);
    for (const value of [...Object.values(report.methods), ...Object.values(report.detectors)]) expect(typeof value).toBe('number');
  });

  it('is deterministic for the same insurer', () => {
    expect(deidentifier.deidentify(record.bundle, context()).bundle).toEqual(bundle);
  });
});

describe('per-insurer pseudonyms', () => {
  it('differ between insurers, and so do every hashed id', () => {
    const record = createGenerator(3).dischargeRecord({ hospitalId: HOSPITAL });
    const a = deidentifier.deidentify(record.bundle, context()).bundle;
    const b = deidentifier.deidentify(record.bundle, context({
      pseudonym: '9a8b7c6d5e4f30211203f4e5d6c7b8a9',
      keys: { cryptoHashKey: 'insurer-b-hash-key', dateShiftKey: 'insurer-b-shift-key', encryptKey: Buffer.alloc(32, 9).toString('base64') },
    })).bundle;
    const idsA = resourcesOf(a).map((r) => r['id']);
    const idsB = new Set(resourcesOf(b).map((r) => r['id']));
    expect(resourcesOf(a, 'Patient')[0]!['id']).not.toBe(resourcesOf(b, 'Patient')[0]!['id']);
    for (const id of idsA) expect(idsB.has(id)).toBe(false);
  });
});

describe('consent categories prune before the rules run', () => {
  const record = createGenerator(5).dischargeRecord({ hospitalId: HOSPITAL, withNote: true, plantAwkwardIdentifiers: true });

  it('keeps only the Patient and the consented resource types', () => {
    const { bundle, report } = deidentifier.deidentify(record.bundle, context({ categories: ['charges'] }));
    const types = new Set(resourcesOf(bundle).map((r) => r['resourceType']));
    expect(types).toEqual(new Set(['Patient', 'ChargeItem', 'Invoice', 'Coverage']));
    expect(report.resourcesDropped['Encounter']).toBe(1);
    expect(report.resourcesDropped['DocumentReference']).toBe(1);
    expect(report.resourcesDropped['Condition']).toBeGreaterThan(0);
    // ChargeItem.context pointed at the dropped Encounter: the reference goes too.
    for (const charge of resourcesOf(bundle, 'ChargeItem')) expect(charge['context']).toBeUndefined();
    expect(report.methods['references-dropped']).toBeGreaterThan(0);
  });

  it('drops free text (narratives, annotations, notes) without the notes category', () => {
    const categories = ALL.filter((c) => c !== 'notes');
    const { bundle } = deidentifier.deidentify(record.bundle, context({ categories }));
    const text = JSON.stringify(bundle);
    expect(text).not.toContain('"div"');
    expect(text).not.toContain('"note"');
    expect(resourcesOf(bundle, 'DocumentReference')).toHaveLength(0);
    const withNotes = JSON.stringify(deidentifier.deidentify(record.bundle, context()).bundle);
    expect(withNotes).toContain('"div"');
    expect(withNotes).toContain('"note"');
  });

  it('adds a Coverage with the policy number when none was consented', () => {
    const { bundle, report } = deidentifier.deidentify(record.bundle, context({ categories: ['diagnosis'] }));
    const coverage = resourcesOf(bundle, 'Coverage');
    expect(coverage).toHaveLength(1);
    expect(coverage[0]!['identifier']).toEqual([{ system: 'urn:hdx:policy-number', value: 'P2024-7781234567' }]);
    expect(coverage[0]!['beneficiary']).toEqual({ reference: 'Patient/0f3c9a1b2d4e5f60718293a4b5c6d7e8' });
    expect(report.methods['coverage-added']).toBe(1);
  });
});

describe('elements added by the gateway', () => {
  it('keep every entry and identifier, whatever the order of the submitted JSON', () => {
    const record = createGenerator(13).dischargeRecord({ hospitalId: HOSPITAL });
    const source = record.bundle as unknown as Json;
    // entry before type and a trailing signature; the commercial Coverage with identifier after status.
    const entries = (source['entry'] as Json[]).map((entry) => {
      const resource = entry['resource'] as Json;
      if (resource['resourceType'] !== 'Coverage' || resource['identifier'] === undefined) return entry;
      const { identifier, ...rest } = resource;
      return { ...entry, resource: { ...rest, identifier } };
    });
    const reordered = { resourceType: 'Bundle', id: source['id'], entry: entries, type: 'collection', signature: { type: [{ code: 'x' }], when: '2024-01-01T00:00:00Z', who: { display: 'x' } } };
    const withCoverage = deidentifier.deidentify(reordered, context()).bundle;
    expect(resourcesOf(withCoverage)).toHaveLength(entries.length);
    const commercial = resourcesOf(withCoverage, 'Coverage').find((c) => c['type']?.coding?.[0]?.code === 'commercial-health-insurance')!;
    expect(commercial['identifier']).toEqual([{ system: 'urn:hdx:policy-number', value: 'P2024-7781234567' }]);
    const added = deidentifier.deidentify(reordered, context({ categories: ['diagnosis', 'encounter'] })).bundle;
    const kept = entries.filter((e) => ['Patient', 'Encounter', 'Condition'].includes((e['resource'] as Json)['resourceType'])).length;
    expect(resourcesOf(added)).toHaveLength(kept + 1);
  });
});

describe('inputs and profiles', () => {
  it('refuses what is not a FHIR Bundle, without quoting it', () => {
    for (const input of [null, 'text', [], { resourceType: 'Patient', id: '440303198603201615' }, { resourceType: 'Bundle', entry: {} }]) {
      expect(() => deidentifier.deidentify(input, context())).toThrow(InvalidInput);
    }
    try {
      deidentifier.deidentify({ resourceType: 'Bundle', type: 'collection', entry: [{ resource: { resourceType: 'Patient', name: [{ family: { x: '张' } }] } }] }, context());
    } catch (error) {
      expect(error).toBeInstanceOf(InvalidInput);
      expect((error as Error).message).toBe('Bundle.entry.resource.Patient.name.family must be a primitive value');
    }
  });

  it('lists the shipped profiles and picks them by purpose', () => {
    expect(deidentifier.profiles().sort()).toEqual(['claim-settlement', 'safe-harbor', 'statistics']);
    const record = createGenerator(9).dischargeRecord({ hospitalId: HOSPITAL });
    expect(deidentifier.deidentify(record.bundle, context({ purpose: 'CLAIM' })).report.profile).toBe('claim-settlement');
    expect(deidentifier.deidentify(record.bundle, context({ purpose: 'STATISTICS' })).report.profile).toBe('statistics');
    expect(deidentifier.deidentify(record.bundle, context({ profile: 'safe-harbor' })).report.profile).toBe('safe-harbor');
    expect(() => deidentifier.deidentify(record.bundle, context({ profile: 'nope' }))).toThrow(InvalidInput);
  });

  it('loads operator profiles and refuses an invalid one at start, naming the file', () => {
    const dir = mkdtempSync(join(tmpdir(), 'hdx-profiles-'));
    writeFileSync(join(dir, 'insurer-x.json'), JSON.stringify({ fhirPathRules: [{ path: 'Resource', method: 'redact' }] }));
    expect(createDeidentifier({ profilesDir: dir }).profiles()).toContain('insurer-x');
    writeFileSync(join(dir, 'broken.json'), JSON.stringify({ fhirPathRules: [{ path: 'Patient.name', method: 'mask' }] }));
    expect(() => createDeidentifier({ profilesDir: dir })).toThrow(/operator profile broken.json: rule 1 \(Patient.name\): method "mask" is not supported/);
    const dup = mkdtempSync(join(tmpdir(), 'hdx-profiles-'));
    writeFileSync(join(dup, 'mine.json'), JSON.stringify({ name: 'claim-settlement', fhirPathRules: [] }));
    expect(() => createDeidentifier({ profilesDir: dup })).toThrow(/already exists/);
  });

  it('statistics: dates shifted by one offset per patient, 5-year birth bands, province only', () => {
    const record = createGenerator(11).dischargeRecord({ hospitalId: HOSPITAL });
    const { bundle } = deidentifier.deidentify(record.bundle, context({ purpose: 'STATISTICS' }));
    const patient = resourcesOf(bundle, 'Patient')[0]!;
    expect(Number(patient['birthDate']) % 5).toBe(0);
    expect(patient['address']).toEqual([{ state: record.patient.address.province, country: 'CN' }]);
    const shift = (a: string, b: string) => Math.round((Date.parse(a) - Date.parse(b)) / 86_400_000);
    const encounter = resourcesOf(bundle, 'Encounter')[0]!;
    const offset = shift(encounter['period']['start'].slice(0, 10), record.serviceStart.slice(0, 10));
    expect(Math.abs(offset)).toBeLessThanOrEqual(50);
    expect(shift(encounter['period']['end'].slice(0, 10), record.serviceEnd.slice(0, 10))).toBe(offset);
    expect(encounter['period']['start'].slice(10)).toBe('T00:00:00+08:00');
  });
});
