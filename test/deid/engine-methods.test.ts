/** Each anonymizer method, the selectors, and the load-time refusals of the profile compiler. */
import { createHmac } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import { anonymizeResource } from '../../gateway/deid/engine/anonymize.js';
import { dateShiftOffset } from '../../gateway/deid/engine/dates.js';
import { compileQuery } from '../../gateway/deid/engine/fhirpath-bridge.js';
import { decryptText } from '../../gateway/deid/engine/methods/encrypt.js';
import { resourceFromJson, type FNode } from '../../gateway/deid/engine/node.js';
import { loadProfile } from '../../gateway/deid/engine/profile.js';
import { parsePath, runSteps } from '../../gateway/deid/engine/selector.js';
import { InvalidProfile } from '../../gateway/deid/engine/errors.js';

type Json = Record<string, any>;

function run(rules: Json[], resource: Json, parameters: Json = {}, options = {}): Json {
  const profile = loadProfile({ fhirPathRules: rules, parameters });
  return anonymizeResource(profile, resource, options).resource as Json;
}

function labels(resource: Json): string[] {
  return ((resource['meta']?.security ?? []) as Json[]).map((coding) => coding['code'] as string);
}

const patient = (): Json => ({
  resourceType: 'Patient',
  id: 'p1',
  birthDate: '1985-07-14',
  multipleBirthInteger: 2,
  name: [{ family: '张', given: ['伟'] }],
  address: [{ city: '深圳市', district: '南山区', postalCode: '518052', line: ['科技园 1 号'] }],
  managingOrganization: { reference: 'Organization/o1', display: '南山医院' },
  generalPractitioner: [{ reference: '#gp' }, { reference: 'urn:uuid:04121321-4af5-424c-a0e1-ed3aab1c349d' }],
});

const observation = (): Json => ({
  resourceType: 'Observation',
  id: 'o1',
  status: 'final',
  code: { coding: [{ system: 'http://loinc.org', code: '2345-7' }] },
  effectiveDateTime: '2024-03-01T08:30:15.250+08:00',
  valueQuantity: { value: 5.6, unit: 'mmol/L' },
  component: [{ code: { text: 'age' }, valueQuantity: { value: 97, unit: 'a' } }],
});

describe('keep', () => {
  it('protects a node and its subtree from later rules', () => {
    const out = run([{ path: 'Patient.address.city', method: 'keep' }, { path: "nodesByType('Address')", method: 'redact' }], patient());
    expect(out['address']).toEqual([{ city: '深圳市' }]);
  });
});

describe('redact', () => {
  it('removes values and labels the resource', () => {
    const out = run([{ path: 'Patient.name', method: 'redact' }], patient());
    expect(out['name']).toBeUndefined();
    expect(labels(out)).toEqual(['REDACTED']);
  });

  it('keeps the year of a date with partial dates, and nothing for an age over 89', () => {
    const today = new Date('2026-06-01T00:00:00Z');
    const rules = [{ path: 'Patient.birthDate', method: 'redact' }];
    expect(run(rules, patient(), { enablePartialDatesForRedact: true }, { today })['birthDate']).toBe('1985');
    expect(run(rules, { ...patient(), birthDate: '1930-01-01' }, { enablePartialDatesForRedact: true }, { today })['birthDate']).toBeUndefined();
    expect(run(rules, patient(), { enablePartialDatesForRedact: false }, { today })['birthDate']).toBeUndefined();
  });

  it('keeps ages up to 89 with partial ages', () => {
    const resource = { resourceType: 'FamilyMemberHistory', id: 'f', status: 'completed', patient: { reference: 'Patient/p' },
      relationship: { text: 'father' }, ageAge: { value: 45 }, condition: [{ code: { text: 'x' }, onsetAge: { value: 93 } }] };
    const out = run([{ path: "nodesByType('Age')", method: 'redact' }], resource, { enablePartialAgesForRedact: true });
    expect(out['ageAge']).toEqual({ value: 45 });
    expect(out['condition'][0]['onsetAge']).toBeUndefined();
  });

  it('abstracts postal codes to three digits, all zeros in restricted areas', () => {
    const rules = [{ path: 'Patient.address.postalCode', method: 'redact' }];
    const partial = { enablePartialZipCodesForRedact: true, restrictedZipCodeTabulationAreas: ['036'] };
    const out = run(rules, patient(), partial);
    expect(out['address'][0]['postalCode']).toBe('518000');
    expect(labels(out)).toEqual(['ABSTRED']);
    const restricted = run(rules, { ...patient(), address: [{ postalCode: '03688' }] }, partial);
    expect(restricted['address'][0]['postalCode']).toBe('00000');
    expect(run(rules, patient())['address'][0]['postalCode']).toBeUndefined();
  });
});

describe('dateShift', () => {
  it('uses the keyed offset over (resource id + key): example+123 → +41 days', () => {
    expect(dateShiftOffset('example', '123')).toBe(41);
    const out = run([{ path: "nodesByType('date')", method: 'dateShift' }], { ...patient(), id: 'example' }, { dateShiftKey: '123' });
    expect(out['birthDate']).toBe('1985-08-24');
    expect(labels(out)).toEqual(['PERTURBED']);
  });

  it('zeroes the time of day and keeps the zone', () => {
    const out = run([{ path: "nodesByType('dateTime')", method: 'dateShift' }], observation(), { dateShiftFixedOffsetInDays: -3 });
    expect(out['effectiveDateTime']).toBe('2024-02-27T00:00:00.000+08:00');
  });

  it('redacts partial dates instead of shifting them', () => {
    const out = run([{ path: "nodesByType('date')", method: 'dateShift' }], { ...patient(), birthDate: '1985-07' }, {
      dateShiftKey: 'k', enablePartialDatesForRedact: true,
    });
    expect(out['birthDate']).toBe('1985');
    expect(labels(out)).toEqual(['REDACTED']);
  });

  it('uses a caller-supplied prefix instead of the resource id', () => {
    const shift = (id: string) =>
      run([{ path: 'Patient.birthDate', method: 'dateShift' }], { ...patient(), id }, {}, { keys: { dateShiftKey: 'k' }, dateShiftKeyPrefix: 'same' })['birthDate'];
    expect(shift('a')).toBe(shift('b'));
  });
});

describe('cryptoHash', () => {
  const hmac = (text: string) => createHmac('sha256', 'secret').update(text).digest('hex');
  it('hashes values with HMAC-SHA256 and only the id part of references', () => {
    const out = run(
      [{ path: 'Patient.id', method: 'cryptoHash' }, { path: "nodesByType('Reference').reference", method: 'cryptoHash' }],
      patient(), { cryptoHashKey: 'secret' },
    );
    expect(out['id']).toBe(hmac('p1'));
    expect(out['managingOrganization']).toEqual({ reference: `Organization/${hmac('o1')}`, display: '南山医院' });
    expect(out['generalPractitioner']).toEqual([
      { reference: `#${hmac('gp')}` },
      { reference: `urn:uuid:${hmac('04121321-4af5-424c-a0e1-ed3aab1c349d')}` },
    ]);
    expect(labels(out)).toEqual(['CRYTOHASH']);
  });

  it('takes the key from the caller over the profile', () => {
    const out = run([{ path: 'Patient.id', method: 'cryptoHash' }], patient(), { cryptoHashKey: 'profile' }, { keys: { cryptoHashKey: 'secret' } });
    expect(out['id']).toBe(hmac('p1'));
  });
});

describe('encrypt', () => {
  const key = '0123456789abcdef0123456789abcdef';
  it('encrypts with AES-CBC and a random IV; the key holder decrypts (random, so asserted by round trip)', () => {
    const rules = [{ path: 'Patient.name.family', method: 'encrypt' }];
    const first = run(rules, patient(), { encryptKey: key });
    const second = run(rules, patient(), { encryptKey: key });
    const cipher = first['name'][0]['family'] as string;
    expect(cipher).not.toBe(second['name'][0]['family']);
    expect(decryptText(cipher, Buffer.from(key))).toBe('张');
    expect(labels(first)).toEqual(['ENCRYPT']);
  });

  it('refuses a key that is not an AES key size', () => {
    expect(() => loadProfile({ fhirPathRules: [], parameters: { encryptKey: 'short' } })).toThrow(/encryptKey has 40 bits/);
    const profile = loadProfile({ fhirPathRules: [{ path: 'Patient.id', method: 'encrypt' }] });
    expect(() => anonymizeResource(profile, patient(), { keys: { encryptKey: 'short' } })).toThrow(TypeError);
  });
});

describe('substitute', () => {
  it('replaces primitives (typed) and complex elements', () => {
    const out = run(
      [
        { path: 'Patient.multipleBirth', method: 'substitute', replaceWith: '1' },
        { path: 'Patient.address', method: 'substitute', replaceWith: { city: '深圳市' } },
      ],
      patient(),
    );
    expect(out['multipleBirthInteger']).toBe(1);
    expect(out['address']).toEqual([{ city: '深圳市' }]);
    expect(labels(out)).toEqual(['SUBSTITUTED']);
  });
});

describe('perturb', () => {
  it('adds bounded noise (random, so asserted by range and rounding)', () => {
    for (let i = 0; i < 50; i++) {
      const out = run([{ path: 'Observation.value', method: 'perturb', span: 1, roundTo: 1 }], observation());
      const value = out['valueQuantity']['value'] as number;
      expect(Math.abs(value - 5.6)).toBeLessThanOrEqual(0.5 + 1e-9);
      expect(Math.round(value * 10) / 10).toBe(value);
      expect(labels(out)).toEqual(['PERTURBED']);
    }
  });

  it('scales proportional spans and keeps integers whole', () => {
    for (let i = 0; i < 50; i++) {
      const out = run([{ path: 'Patient.multipleBirth', method: 'perturb', span: 4, rangeType: 'proportional' }], patient());
      const value = out['multipleBirthInteger'] as number;
      expect(Number.isInteger(value)).toBe(true);
      expect(value).toBeGreaterThanOrEqual(-2);
      expect(value).toBeLessThanOrEqual(6);
    }
  });

  it('is refused without a span', () => {
    expect(() => loadProfile({ fhirPathRules: [{ path: 'Observation.value', method: 'perturb' }] })).toThrow(/rule 1 \(Observation.value\): perturb needs span/);
  });
});

describe('generalize', () => {
  it('applies the first matching case, then otherValues', () => {
    const rules = [
      { path: 'Patient.birthDate', method: 'generalize', cases: { '$this >= @1980-01-01 and $this < @1990-01-01': '@1980-01-01' }, otherValues: 'redact' },
      { path: 'Patient.address.city', method: 'generalize', cases: { "$this = 'x'": "'y'" }, otherValues: 'keep' },
    ];
    const out = run(rules, patient());
    expect(out['birthDate']).toBe('1980-01-01');
    expect(out['address'][0]['city']).toBe('深圳市');
    expect(labels(out)).toEqual(['GENERALIZED']);
    expect(run(rules, { ...patient(), birthDate: '1975-01-01' })['birthDate']).toBeUndefined();
  });

  it('is a processing error on a non-primitive node', () => {
    const profile = loadProfile({ fhirPathRules: [{ path: 'Patient.name', method: 'generalize', cases: { true: "'x'" } }] });
    expect(() => anonymizeResource(profile, patient())).toThrow(/generalize applies to primitive values only/);
    const skipping = loadProfile({ processingErrors: 'skip', fhirPathRules: [{ path: 'Patient.name', method: 'generalize', cases: { true: "'x'" } }] });
    expect(anonymizeResource(skipping, patient()).resource).toEqual({
      resourceType: 'Patient',
      meta: { security: [{ system: 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue', code: 'REDACTED', display: 'redacted' }] },
    });
  });
});

describe('selectors', () => {
  const paths = [
    'Patient.name.family',
    "Patient.nodesByType('HumanName').given",
    "Patient.address.nodesByName('postalCode')",
    "Patient.generalPractitioner.where(reference = '#gp')",
    "Patient.managingOrganization.nodesByType('string')",
  ];
  it('walks simple chains without FHIRPath and agrees with FHIRPath on them', () => {
    const stats = { unknownElements: 0 };
    for (const path of paths) {
      const parsed = parsePath(path);
      expect(parsed.selector.kind, path).toBe('steps');
      const root: FNode = resourceFromJson(patient(), stats);
      const fast = parsed.selector.kind === 'steps' ? runSteps(parsed.selector.steps, root) : [];
      const general = compileQuery(path.replace(/^Patient\./, ''))(root);
      expect(fast.length, path).toBeGreaterThan(0);
      expect(fast, path).toEqual(general);
    }
  });

  it('uses FHIRPath for everything else, with nodesByType inside it', () => {
    expect(parsePath("Patient.name.where(given.exists()).family").selector.kind).toBe('fhirpath');
    const out = run([{ path: "Patient.nodesByType('Address').where(city.startsWith('深圳')).line", method: 'redact' }], patient());
    expect(out['address'][0]['line']).toBeUndefined();
    expect(out['address'][0]['district']).toBe('南山区');
  });

  it('applies a rule only to its resource type, or to all for Resource', () => {
    const profile = loadProfile({ fhirPathRules: [{ path: 'Observation.id', method: 'redact' }, { path: 'Resource.meta', method: 'redact' }] });
    const bundle = { resourceType: 'Bundle', id: 'b', type: 'collection', entry: [{ resource: patient() }, { resource: observation() }] };
    const out = anonymizeResource(profile, bundle).resource as Json;
    expect(out['entry'][0]['resource']['id']).toBe('p1');
    expect(out['entry'][1]['resource']['id']).toBeUndefined();
  });
});

describe('profile loading refuses what it cannot honour, naming the rule', () => {
  const refused: [string, unknown, RegExp][] = [
    ['not an object', [], /must be a JSON object/],
    ['no rules', { fhirPathRules: 'x' }, /fhirPathRules must be a list/],
    ['STU3', { fhirVersion: 'Stu3', fhirPathRules: [] }, /fhirVersion must be R4/],
    ['unknown method', { fhirPathRules: [{ path: 'Patient.id', method: 'hash' }] }, /rule 1 \(Patient.id\): method "hash" is not supported/],
    ['custom processor', { fhirPathRules: [{ path: 'Patient.id', method: 'keep' }, { path: 'Patient.name', method: 'maskName' }] }, /rule 2 \(Patient.name\)/],
    ['missing path', { fhirPathRules: [{ method: 'redact' }] }, /rule 1: missing path/],
    ['bad FHIRPath', { fhirPathRules: [{ path: 'Patient.name.where(', method: 'redact' }] }, /rule 1 \(Patient.name.where\(\): path is not a valid FHIRPath/],
    ['substitute without value', { fhirPathRules: [{ path: 'Patient.name', method: 'substitute' }] }, /substitute needs replaceWith/],
    ['negative span', { fhirPathRules: [{ path: 'Observation.value', method: 'perturb', span: -1 }] }, /span must be a number/],
    ['bad rangeType', { fhirPathRules: [{ path: 'Observation.value', method: 'perturb', span: 1, rangeType: 'log' }] }, /rangeType/],
    ['generalize without cases', { fhirPathRules: [{ path: 'Patient.gender', method: 'generalize' }] }, /generalize needs cases/],
    ['bad case', { fhirPathRules: [{ path: 'Patient.gender', method: 'generalize', cases: { '$this = ': "'x'" } }] }, /case 1 condition is not a valid FHIRPath/],
    ['bad otherValues', { fhirPathRules: [{ path: 'Patient.gender', method: 'generalize', cases: { true: "'x'" }, otherValues: 'drop' } ] }, /otherValues/],
    ['bad processingErrors', { processingErrors: 'ignore', fhirPathRules: [] }, /processingErrors/],
    ['bad scope', { fhirPathRules: [], parameters: { dateShiftScope: 'patient' } }, /dateShiftScope/],
    ['bad fixed offset', { fhirPathRules: [], parameters: { dateShiftFixedOffsetInDays: 1.5 } }, /dateShiftFixedOffsetInDays/],
  ];
  for (const [what, json, message] of refused) {
    it(what, () => {
      expect(() => loadProfile(json as object)).toThrow(InvalidProfile);
      expect(() => loadProfile(json as object)).toThrow(message);
    });
  }

  it('refuses text that is not JSON', () => {
    expect(() => loadProfile('{ "fhirPathRules": [')).toThrow(/not valid JSON/);
  });

  it('warns about members R4 does not define (they never match)', () => {
    const profile = loadProfile({ fhirPathRules: [{ path: 'Patient.nmae', method: 'redact' }] });
    expect(profile.warnings).toEqual(['rule 1 (Patient.nmae): Patient has no element nmae; the rule will never match']);
  });
});

describe('HMAC-SHA256 (cryptoHash)', () => {
  it('matches node:crypto for keys and messages of every length class, UTF-8 included', async () => {
    const { createHmac: nodeHmac, randomBytes } = await import('node:crypto');
    const { hmacSha256Hex } = await import('../../gateway/deid/engine/hmac-sha256.js');
    for (let t = 0; t < 600; t++) {
      const key = randomBytes(t % 150);
      const message = randomBytes(t % 300).toString('base64').slice(0, (t * 7) % 260) + (t % 3 === 0 ? '张伟𠀀' : '');
      expect(hmacSha256Hex(key)(message), `key ${key.length} bytes, message ${message.length}`).toBe(
        nodeHmac('sha256', key).update(message, 'utf8').digest('hex'),
      );
    }
  });

  it('matches node:crypto around the one-block limit (55 bytes), with one hash function reused', async () => {
    const { createHmac: nodeHmac } = await import('node:crypto');
    const { hmacSha256Hex } = await import('../../gateway/deid/engine/hmac-sha256.js');
    const hash = hmacSha256Hex(Buffer.from('insurer-key'));
    for (let length = 0; length <= 70; length++) {
      const ascii = 'abcdefghijklmnopqrstuvwxyz0123456789-.ABCDEFGHIJKLMNOPQRSTUVWXYZ'.repeat(2).slice(0, length);
      for (const message of [ascii, `${ascii.slice(0, length >> 1)}é${ascii.slice(length >> 1)}`, `${ascii}张`]) {
        expect(hash(message), `${message.length} characters`).toBe(nodeHmac('sha256', 'insurer-key').update(message, 'utf8').digest('hex'));
      }
    }
  });
});
