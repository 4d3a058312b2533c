import { describe, expect, it } from 'vitest';
import { identifiersIn } from '../../synthetic/leak-scan.js';
import { detect, knownValuesFromPatient, scrub } from '../../gateway/deid/detectors/index.js';
import type { DetectOptions } from '../../gateway/deid/detectors/index.js';
import { createGenerator, type SyntheticRecord } from '../../synthetic/index.js';
import * as diagnoses from '../../synthetic/vocabulary/diagnoses.js';
import * as labs from '../../synthetic/vocabulary/labs.js';
import * as medications from '../../synthetic/vocabulary/medications.js';
import * as names from '../../synthetic/vocabulary/names.js';
import * as organisations from '../../synthetic/vocabulary/organisations.js';
import * as places from '../../synthetic/vocabulary/places.js';
import { noteText, only, resourcesOf, stringsIn } from './bundle-helpers.js';

const generator = createGenerator(77);
const plain = Array.from({ length: 10 }, () => generator.dischargeRecord({ hospitalId: 'nanshan-people', withNote: true }));
const awkward = Array.from({ length: 10 }, (_, i) =>
  generator.dischargeRecord({ hospitalId: 'nanshan-people', withNote: true, plantAwkwardIdentifiers: true, encounterClass: i % 2 ? 'AMB' : 'IMP' }),
);

/** What the de-identifier would pass: the Patient's own values and the hospital's visit-number shapes. */
function optionsFor(record: SyntheticRecord): DetectOptions {
  return { known: knownValuesFromPatient(only(record.bundle, 'Patient')), recordNumberPatterns: [/ZY\d{10}/, /MZ\d{12}/] };
}

/** The bundle as text, with the note decoded: where a leak test would look. */
function everything(record: SyntheticRecord): string {
  return `${JSON.stringify(record.bundle)}\n${noteText(record.bundle) ?? ''}`;
}

function occurrences(text: string, value: string): number[] {
  const found: number[] = [];
  for (let i = text.indexOf(value); i !== -1; i = text.indexOf(value, i + 1)) found.push(i);
  return found;
}

describe('the identifiers list', () => {
  it('covers name, resident ID, phone, address, MRN, visit number, 医保 card and relatives', () => {
    for (const record of plain) {
      const { patient, identifiers } = record;
      const visit = only(record.bundle, 'Encounter').identifier[0].value;
      expect(identifiers).toEqual(
        expect.arrayContaining([
          patient.name, patient.nationalId, patient.phone, patient.address.line, patient.mrn, patient.socialInsuranceNumber,
          visit, ...patient.relatives.flatMap((r) => [r.name, r.phone]),
        ]),
      );
      if (patient.email !== undefined) expect(identifiers).toContain(patient.email);
      expect(new Set(identifiers).size).toBe(identifiers.length);
    }
  });
  it('lists only values that really are in the bundle', () => {
    for (const record of [...plain, ...awkward]) {
      const text = everything(record);
      for (const value of record.identifiers) expect(text.includes(value), value).toBe(true);
    }
  });
  it('never lists the city or the hospital, which de-identified data keeps', () => {
    for (const record of plain) {
      expect(record.identifiers).not.toContain('深圳市');
      for (const value of record.identifiers) expect('深圳市南山区人民医院'.includes(value)).toBe(false);
    }
  });
});

describe('names', () => {
  it('cannot occur in the fixed vocabulary except in doctors’ names (checked for every surname + character)', () => {
    const { DOCTOR_NAMES, ...nameLists } = names;
    const corpus = JSON.stringify([diagnoses, labs, medications, organisations, places, nameLists.SURNAMES]);
    expect(corpus).toContain('急性前壁心肌梗死');
    expect(corpus).toContain('丽水佳园');
    const givenCharacters = [...names.MALE_GIVEN_CHARACTERS, ...names.FEMALE_GIVEN_CHARACTERS];
    for (const [surname] of names.SURNAMES) {
      for (const character of givenCharacters) expect(corpus.includes(surname + character), surname + character).toBe(false);
    }
    expect(DOCTOR_NAMES.length).toBeGreaterThan(3);
  });
  it('of the signing doctor never share a surname with the family, so no name variant matches the doctor', () => {
    for (const record of [...plain, ...awkward]) {
      const doctor = only(record.bundle, 'Encounter').participant[0].individual.display as string;
      const family = [record.patient.name, ...record.patient.relatives.map((r) => r.name)];
      for (const member of family) expect(doctor.charAt(0)).not.toBe(member.charAt(0));
    }
  });
});

describe('awkward identifiers', () => {
  it('are planted in an extension, notes, displays, narratives, an unfamiliar identifier and the title', () => {
    for (const record of awkward) {
      const patient = only(record.bundle, 'Patient');
      expect(patient.extension[0].valueString).toContain(record.patient.relatives[0]!.name);
      const unfamiliar = patient.identifier.find((i: { system: string }) => i.system === 'urn:oid:1.2.156.112604.1.2.1196');
      expect(record.identifiers).toContain(unfamiliar.value);
      expect(patient.text.div).toContain(record.patient.name);
      expect(only(record.bundle, 'Encounter').text.div).toContain(record.patient.name);
      const observation = resourcesOf(record.bundle, 'Observation')[0];
      expect(observation.note[0].text).toContain(record.patient.surname);
      expect(observation.subject.display).toBe(record.patient.name);
      expect(resourcesOf(record.bundle, 'MedicationRequest')[0].subject.display).toContain(record.patient.mrn);
      const relativePhone = resourcesOf(record.bundle, 'Condition')[0].note[0].text;
      expect(record.identifiers.some((value) => relativePhone.includes(value) && /\d{3}/.test(value))).toBe(true);
      const title = only(record.bundle, 'DocumentReference').content[0].attachment.title;
      expect(title).toContain(record.patient.name);
      expect(record.identifiers).toContain(title);
      expect(only(record.bundle, 'Invoice').note[0].text).toMatch(/62\d\d \d{4} \d{4} \d{4} \d{3}/);
    }
  });
  it('are absent unless asked for', () => {
    for (const record of plain) {
      expect(only(record.bundle, 'Patient').extension).toBeUndefined();
      expect(resourcesOf(record.bundle, 'Observation')[0].note).toBeUndefined();
    }
  });
});

describe('the detectors on generated notes', () => {
  it('cover every occurrence of every identifier in the note text', () => {
    for (const record of [...plain, ...awkward]) {
      const text = noteText(record.bundle)!;
      const detections = detect(text, optionsFor(record));
      const covered = (start: number, end: number) => detections.some((d) => d.start <= start && d.end >= end);
      let checked = 0;
      for (const value of record.identifiers) {
        for (const at of occurrences(text, value)) {
          expect(covered(at, at + value.length), value).toBe(true);
          checked++;
        }
      }
      expect(checked).toBeGreaterThanOrEqual(4); // name, visit number, phones, a relative at least
    }
  });
  it('find nothing in a note that is not an identifier (no false positives in the clinical prose)', () => {
    for (const record of [...plain, ...awkward]) {
      const text = noteText(record.bundle)!;
      const identifierSpans = record.identifiers.flatMap((value) => occurrences(text, value).map((at) => [at, at + value.length] as const));
      for (const detection of detect(text, optionsFor(record))) {
        const overlaps = identifierSpans.some(([start, end]) => detection.start < end && detection.end > start);
        expect(overlaps, text.slice(detection.start, detection.end)).toBe(true);
      }
    }
  });
  it('leave no identifier behind when scrubbing the free text of an awkward record', () => {
    const freeTextKeys = new Set(['valueString', 'text', 'div', 'display', 'title']);
    for (const record of awkward) {
      const options = optionsFor(record);
      const texts = record.bundle.entry
        .flatMap((entry) => stringsIn(entry.resource))
        .filter(({ key }) => freeTextKeys.has(key))
        .map(({ text }) => text);
      texts.push(noteText(record.bundle)!);
      for (const text of texts) {
        const scrubbed = scrub(text, options).text;
        for (const value of record.identifiers) expect(scrubbed.includes(value), `${value} survived`).toBe(false);
      }
    }
  });
});

describe('looking for identifiers in machine output', () => {
  it('finds an identifier in text, but not a postcode inside a random hash', () => {
    const ids = ['518033', '张伟', '13800138000'];
    expect(identifiersIn('地址 518033，电话 13800138000', ids)).toEqual(['518033', '13800138000']);
    expect(identifiersIn('"id":"66a14dba8e7ab659d726e23f66ab11dd3e28d35b39834b40ad5180338cd6434f"', ids)).toEqual([]);
    expect(identifiersIn('患者张伟出院', ids)).toEqual(['张伟']);
  });
});
