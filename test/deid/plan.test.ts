/**
 * The one-walk plan (plan.ts) must give exactly what the rule-by-rule algorithm gives: compared on the
 * upstream conformance cases and on generated bundles for every shipped profile.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformancePath } from '../support/conformance.js';
import { anonymizeResource } from '../../gateway/deid/engine/anonymize.js';
import { loadProfile } from '../../gateway/deid/engine/profile.js';
import { createGenerator } from '../../synthetic/index.js';

const DIR = conformancePath('fhir-anonymizer');
const PROFILES = join(import.meta.dirname, '../../gateway/deid/profiles');
const today = new Date('2026-06-01T00:00:00Z');
const keys = { cryptoHashKey: 'plan-test-hash', dateShiftKey: 'plan-test-shift' };

function readJson(path: string): unknown {
  return JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, ''));
}

describe('plan ≡ rule by rule', () => {
  it('on every conformance case', () => {
    const lines = readFileSync(join(DIR, 'CASES.tsv'), 'utf8').trim().split('\n').slice(1);
    for (const line of lines) {
      const [config, input] = line.split('\t') as [string, string];
      const profile = loadProfile(join(DIR, 'Configurations', config));
      const json = readJson(join(DIR, 'TestResources', input));
      const planned = anonymizeResource(profile, json, { today });
      const general = anonymizeResource(profile, json, { today, general: true });
      expect(planned, `${config} × ${input}`).toEqual(general);
    }
  });

  it('on generated bundles, for the shipped profiles', () => {
    const generator = createGenerator(424242);
    const bundles = Array.from({ length: 60 }, (_, i) =>
      generator.dischargeRecord({ hospitalId: 'nanshan-people', withNote: i % 2 === 0, plantAwkwardIdentifiers: i % 3 === 0 }).bundle,
    );
    for (const name of ['claim-settlement', 'statistics', 'safe-harbor']) {
      const profile = loadProfile(join(PROFILES, `${name}.json`));
      for (const bundle of bundles) {
        const planned = anonymizeResource(profile, bundle, { today, keys });
        const general = anonymizeResource(profile, bundle, { today, keys, general: true });
        expect(planned, name).toEqual(general);
      }
    }
  });

  it('is what the shipped profiles actually use for the record types', () => {
    const profile = loadProfile(join(PROFILES, 'claim-settlement.json'));
    for (const type of ['Bundle', 'Patient', 'Encounter', 'Condition', 'Procedure', 'MedicationRequest', 'Observation', 'ChargeItem', 'Invoice', 'Coverage', 'DocumentReference']) {
      expect(profile.planFor(type), type).toBeDefined();
    }
  });

  it('falls back where a where() reads a value an earlier rule may change', () => {
    const profile = loadProfile({
      fhirPathRules: [
        { path: 'Patient.extension.url', method: 'redact' },
        { path: "Patient.extension.where(url = 'x')", method: 'keep' },
        { path: 'Patient.extension', method: 'redact' },
      ],
    });
    expect(profile.planFor('Patient')).toBeUndefined();
    const patient = { resourceType: 'Patient', extension: [{ url: 'x', valueString: 'v' }] };
    expect(anonymizeResource(profile, patient).resource).toEqual(anonymizeResource(profile, patient, { general: true }).resource);
  });
});
