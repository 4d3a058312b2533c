/**
 * Microsoft's FHIR anonymizer functional cases (CASES.tsv): configuration + input → expected output,
 * compared as parsed JSON, exactly as upstream does.
 *
 * Date-dependent expectations: the anonymizer redacts dates that indicate an age over 89 *as of today*.
 * One input (patient-special-content, born 1940-01-01) crosses that line on 2030-01-01, so for its birth
 * date we assert the rule — shifted while the person is ≤ 89, removed after — and check both branches by
 * pinning "today". No CASES.tsv case uses encrypt or perturb (random); those are covered by rule in
 * engine-methods.test.ts.
 */
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformancePath } from '../support/conformance.js';
import { anonymizeResource } from '../../gateway/deid/engine/anonymize.js';
import { loadProfile } from '../../gateway/deid/engine/profile.js';

const DIR = conformancePath('fhir-anonymizer');

function readJson(path: string): Record<string, unknown> {
  return JSON.parse(readFileSync(path, 'utf8').replace(/^\uFEFF/, '')) as Record<string, unknown>;
}

const cases = readFileSync(join(DIR, 'CASES.tsv'), 'utf8')
  .trim()
  .split('\n')
  .slice(1)
  .map((line) => line.split('\t') as [string, string, string]);

/** Whether someone born on `birth` is over 89 on `today` (the anonymizer's threshold). */
function over89(birth: string, today: Date): boolean {
  const [year, month, day] = birth.split('-').map(Number) as [number, number, number];
  const before = today.getMonth() + 1 < month || (today.getMonth() + 1 === month && today.getDate() < day);
  return today.getFullYear() - year - (before ? 1 : 0) > 89;
}

const AGE_DEPENDENT = 'patient-special-content.json';

describe('FHIR anonymizer conformance (CASES.tsv)', () => {
  it('lists the 28 upstream cases', () => {
    expect(cases).toHaveLength(28);
  });

  for (const [config, input, expected] of cases) {
    it(`${config} × ${input}`, () => {
      const profile = loadProfile(join(DIR, 'Configurations', config));
      const today = new Date();
      const out = anonymizeResource(profile, readJson(join(DIR, 'TestResources', input)), { today });
      const want = readJson(join(DIR, 'TestResources', expected));
      if (input === AGE_DEPENDENT && over89('1940-01-01', today)) {
        // After 2030-01-01 the over-89 rule removes the birth date and birth time instead of shifting them
        // (the birth-time extension keeps only its url).
        delete want['birthDate'];
        want['_birthDate'] = { extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime' }] };
      }
      expect(out.resource).toEqual(want);
    });
  }

  it('applies the over-89 rule by date: the 1940 birth date is shifted before 2030 and removed after', () => {
    const profile = loadProfile(join(DIR, 'Configurations', 'common-config.json'));
    const input = readJson(join(DIR, 'TestResources', AGE_DEPENDENT));
    const before = anonymizeResource(profile, input, { today: new Date('2029-12-31T12:00:00Z') }).resource;
    const after = anonymizeResource(profile, input, { today: new Date('2030-01-02T12:00:00Z') }).resource;
    expect(before['birthDate']).toBe('1940-02-11');
    expect(after['birthDate']).toBeUndefined();
    expect(after['_birthDate']).toEqual({ extension: [{ url: 'http://hl7.org/fhir/StructureDefinition/patient-birthTime' }] });
  });

  it('loads every upstream configuration, including the BOM-prefixed R4 sample', () => {
    for (const file of [
      'common-config.json', 'common-no-partial-config.json', 'configuration-raise-processing-error.json',
      'configuration-skip-processing-error.json', 'configuration-without-processing-error.json', 'generalize-patient-config.json',
      'r4-configuration-sample.json', 'redact-all-config.json', 'substitute-complex.json', 'substitute-conflict-rules.json',
      'substitute-multiple-2.json', 'substitute-multiple.json', 'substitute-primitive.json',
    ]) {
      expect(() => loadProfile(join(DIR, 'Configurations', file))).not.toThrow();
    }
    expect(readFileSync(join(DIR, 'Configurations', 'r4-configuration-sample.json'))[0]).toBe(0xef);
  });

  it('raises (without quoting the value) when processingErrors is raise', () => {
    const profile = loadProfile(join(DIR, 'Configurations', 'configuration-raise-processing-error.json'));
    const input = readJson(join(DIR, 'TestResources', 'patient-basic.json'));
    expect(() => anonymizeResource(profile, input)).toThrow(/case 1 cannot be evaluated/);
    try {
      anonymizeResource(profile, input);
    } catch (error) {
      expect(String((error as Error).message)).not.toContain('Family');
    }
  });
});
