import { describe, expect, it } from 'vitest';
import { createGenerator, type SyntheticRecord } from '../../synthetic/index.js';
import { epoch, fen, only, referencesIn, resourcesOf } from './bundle-helpers.js';

const HOSPITAL = 'nanshan-people';
const records = (seed: number, count: number, options: { encounterClass?: 'IMP' | 'AMB'; withNote?: boolean } = {}) => {
  const generator = createGenerator(seed);
  return Array.from({ length: count }, () => generator.dischargeRecord({ hospitalId: HOSPITAL, ...options }));
};
const inpatient = records(11, 40, { encounterClass: 'IMP', withNote: true });
const outpatient = records(12, 20, { encounterClass: 'AMB', withNote: true });
const all = [...inpatient, ...outpatient, ...records(13, 20)];

describe('determinism', () => {
  it('gives identical JSON for the same seed and calls, different JSON for another seed', () => {
    const make = (seed: number) =>
      JSON.stringify(createGenerator(seed).dischargeRecord({ hospitalId: HOSPITAL, withNote: true, plantAwkwardIdentifiers: true }));
    expect(make(99)).toBe(make(99));
    expect(make(99)).not.toBe(make(100));
  });
  it('does not depend on the clock or Math.random', () => {
    const original = Math.random;
    Math.random = () => 0.5;
    try {
      const once = JSON.stringify(records(5, 2));
      Math.random = () => 0.1;
      expect(JSON.stringify(records(5, 2))).toBe(once);
    } finally {
      Math.random = original;
    }
  });
});

describe('bundle structure', () => {
  it('is a collection whose entries have urn:uuid fullUrls matching unique ids', () => {
    for (const { bundle } of all) {
      expect(bundle.resourceType).toBe('Bundle');
      expect(bundle.type).toBe('collection');
      const ids = bundle.entry.map((entry) => entry.resource.id);
      expect(new Set(ids).size).toBe(ids.length);
      for (const entry of bundle.entry) expect(entry.fullUrl).toBe(`urn:uuid:${entry.resource.id}`);
    }
  });
  it('has only references that resolve to entries of the bundle', () => {
    for (const { bundle } of all) {
      const fullUrls = new Set(bundle.entry.map((entry) => entry.fullUrl));
      const references = bundle.entry.flatMap((entry) => referencesIn(entry.resource));
      expect(references.length).toBeGreaterThan(10);
      for (const reference of references) expect(fullUrls.has(reference)).toBe(true);
    }
  });
  it('holds about twenty resources for a typical inpatient record', () => {
    const sizes = inpatient.map(({ bundle }) => bundle.entry.length);
    const mean = sizes.reduce((a, b) => a + b, 0) / sizes.length;
    expect(mean).toBeGreaterThanOrEqual(18);
    expect(mean).toBeLessThanOrEqual(25);
    for (const size of sizes) expect(size).toBeGreaterThanOrEqual(14);
  });
  it('has the resource counts the profile promises', () => {
    for (const { bundle } of all) {
      const count = (type: string) => resourcesOf(bundle, type).length;
      expect(count('Patient')).toBe(1);
      expect(count('Encounter')).toBe(1);
      expect(count('Condition')).toBeGreaterThanOrEqual(1);
      expect(count('Condition')).toBeLessThanOrEqual(3);
      expect(count('Procedure')).toBeLessThanOrEqual(2);
      expect(count('MedicationRequest')).toBeGreaterThanOrEqual(2);
      expect(count('MedicationRequest')).toBeLessThanOrEqual(5);
      expect(count('Observation')).toBeGreaterThanOrEqual(2);
      expect(count('Observation')).toBeLessThanOrEqual(5);
      expect(count('ChargeItem')).toBeGreaterThanOrEqual(4);
      expect(count('ChargeItem')).toBeLessThanOrEqual(10);
      expect(count('Invoice')).toBe(1);
      expect(count('Coverage')).toBe(2);
    }
  });
});

describe('Patient and Encounter', () => {
  it('carry the patient’s identifiers under the agreed systems', () => {
    for (const { bundle, patient } of all) {
      const resource = only(bundle, 'Patient');
      const value = (system: string) => resource.identifier.find((i: { system: string }) => i.system === system)?.value;
      expect(value('urn:oid:2.16.156.10011.1.1')).toBe(patient.nationalId);
      expect(value(`https://${HOSPITAL}.hospital.hdx.local/mrn`)).toBe(patient.mrn);
      expect(value('urn:hdx:cn:social-insurance-card')).toBe(patient.socialInsuranceNumber);
      expect(resource.name[0]).toMatchObject({ text: patient.name, family: patient.surname, given: [patient.givenName] });
      expect(resource.telecom[0].value).toBe(patient.phone);
      expect(resource.contact).toHaveLength(patient.relatives.length);
    }
  });
  it('has the requested class, a visit number and the service period returned alongside', () => {
    for (const record of [...inpatient, ...outpatient]) {
      const encounter = only(record.bundle, 'Encounter');
      expect(encounter.class).toMatchObject({ system: 'http://terminology.hl7.org/CodeSystem/v3-ActCode', code: record.encounterClass });
      expect(encounter.period).toEqual({ start: record.serviceStart, end: record.serviceEnd });
      expect(encounter.identifier[0].system).toBe(`https://${HOSPITAL}.hospital.hdx.local/visit`);
      expect(encounter.identifier[0].value).toMatch(record.encounterClass === 'IMP' ? /^ZY\d{10}$/ : /^MZ\d{12}$/);
      expect(encounter.serviceProvider.display).toBe('深圳市南山区人民医院');
      expect(encounter.hospitalization.dischargeDisposition.coding[0].code).toBe('home');
    }
    expect(inpatient.every((r) => r.encounterClass === 'IMP')).toBe(true);
    expect(outpatient.every((r) => r.encounterClass === 'AMB')).toBe(true);
  });
  it('keeps inpatient stays between 2 and 12 days, outpatient visits within a day', () => {
    for (const record of inpatient) {
      const days = (epoch(record.serviceEnd) - epoch(record.serviceStart)) / 86_400_000;
      expect(days).toBeGreaterThan(1);
      expect(days).toBeLessThan(13);
    }
    for (const record of outpatient) expect(record.serviceStart.slice(0, 10)).toBe(record.serviceEnd.slice(0, 10));
  });
  it('honours dischargeDate, hospitalName and a given patient', () => {
    const generator = createGenerator(3);
    const patient = generator.patient();
    const record = generator.dischargeRecord({
      hospitalId: 'futian-demo', hospitalName: '示例医院', patient, encounterClass: 'IMP', dischargeDate: new Date('2025-02-10T02:00:00Z'),
    });
    expect(record.patient).toBe(patient);
    expect(record.serviceEnd.slice(0, 10)).toBe('2025-02-10');
    expect(only(record.bundle, 'Encounter').serviceProvider.display).toBe('示例医院');
    expect(only(record.bundle, 'Patient').identifier[1].system).toBe('https://futian-demo.hospital.hdx.local/mrn');
  });
  it('refuses a hospitalId that cannot be part of a URL, without echoing it', () => {
    const generator = createGenerator(1);
    expect(() => generator.dischargeRecord({ hospitalId: 'Bad Id/1' })).toThrow(TypeError);
    expect(() => generator.dischargeRecord({ hospitalId: 'Bad Id/1' })).not.toThrow(/Bad Id/);
    expect(() => generator.dischargeRecord({ hospitalId: 'ok', dischargeDate: new Date('x') })).toThrow(TypeError);
  });
});

describe('clinical content', () => {
  it('codes diagnoses in ICD-10 with the principal one ranked first', () => {
    for (const { bundle } of all) {
      const conditions = resourcesOf(bundle, 'Condition');
      for (const condition of conditions) {
        expect(condition.code.coding[0].system).toBe('http://hl7.org/fhir/sid/icd-10');
        expect(condition.code.coding[0].code).toMatch(/^[A-Z]\d{2}(\.\d)?$/);
        expect(condition.category[0].coding[0].code).toBe('encounter-diagnosis');
      }
      const principal = only(bundle, 'Encounter').diagnosis.find((d: { rank: number }) => d.rank === 1);
      expect(principal.condition.reference).toBe(`urn:uuid:${conditions[0].id}`);
    }
  });
  it('only lets women deliver babies, and ages fit the diagnosis', () => {
    for (const { bundle, patient } of all) {
      const codes = resourcesOf(bundle, 'Condition').map((c) => c.code.coding[0].code);
      if (codes.includes('O80')) expect(patient.gender).toBe('female');
    }
  });
  it('dates procedures, labs and charges within the stay', () => {
    for (const record of all) {
      const [start, end] = [epoch(record.serviceStart), epoch(record.serviceEnd)];
      const within = (dateTime: string) => {
        expect(epoch(dateTime)).toBeGreaterThanOrEqual(start);
        expect(epoch(dateTime)).toBeLessThanOrEqual(end);
      };
      for (const procedure of resourcesOf(record.bundle, 'Procedure')) {
        expect(procedure.code.coding[0].system).toBe('http://hl7.org/fhir/sid/icd-9-cm');
        within(procedure.performedPeriod.start);
        within(procedure.performedPeriod.end);
      }
      for (const observation of resourcesOf(record.bundle, 'Observation')) {
        expect(observation.code.coding[0].system).toBe('http://loinc.org');
        expect(observation.category[0].coding[0].code).toBe('laboratory');
        expect(observation.valueQuantity.system).toBe('http://unitsofmeasure.org');
        expect(typeof observation.valueQuantity.value).toBe('number');
        within(observation.effectiveDateTime);
      }
      for (const charge of resourcesOf(record.bundle, 'ChargeItem')) {
        if (charge.occurrenceDateTime !== undefined) within(charge.occurrenceDateTime);
        else {
          within(charge.occurrencePeriod.start);
          within(charge.occurrencePeriod.end);
        }
      }
      for (const request of resourcesOf(record.bundle, 'MedicationRequest')) {
        expect(request.medicationCodeableConcept.text).toMatch(/\p{Script=Han}/u);
        expect(request.dosageInstruction[0].text).toBeTruthy();
        within(request.authoredOn);
      }
    }
  });
});

describe('charges and payers', () => {
  const sumOfCharges = (record: SyntheticRecord) =>
    resourcesOf(record.bundle, 'ChargeItem').reduce((sum, item) => sum + fen(item.priceOverride.value), 0);

  it('totals the invoice as the sum of the charge items, and returns that total', () => {
    for (const record of all) {
      const invoice = only(record.bundle, 'Invoice');
      expect(fen(invoice.totalGross.value)).toBe(sumOfCharges(record));
      expect(fen(record.totalCharges)).toBe(sumOfCharges(record));
      expect(invoice.totalGross.currency).toBe('CNY');
    }
  });
  it('references every charge item from exactly one invoice line with its amount', () => {
    for (const { bundle } of all) {
      const items = resourcesOf(bundle, 'ChargeItem');
      const lines = only(bundle, 'Invoice').lineItem;
      expect(lines.map((l: { chargeItemReference: { reference: string } }) => l.chargeItemReference.reference)).toEqual(
        items.map((item) => `urn:uuid:${item.id}`),
      );
      lines.forEach((line: { priceComponent: Array<{ amount: { value: number } }> }, i: number) =>
        expect(line.priceComponent[0]?.amount.value).toBe(items[i].priceOverride.value),
      );
    }
  });
  it('uses the agreed charge categories, CNY and two-decimal amounts', () => {
    const categories = new Set<string>();
    for (const { bundle } of all) {
      for (const item of resourcesOf(bundle, 'ChargeItem')) {
        expect(item.code.coding[0].system).toBe('https://hdx.local/fhir/CodeSystem/charge-category');
        categories.add(item.code.coding[0].code);
        expect(item.priceOverride.currency).toBe('CNY');
        expect(item.priceOverride.value).toBeGreaterThan(0);
        expect(Math.abs(item.priceOverride.value * 100 - fen(item.priceOverride.value))).toBeLessThan(1e-6);
        expect(item.quantity.value).toBeGreaterThan(0);
      }
    }
    expect([...categories].sort()).toEqual(['bed', 'drug', 'exam', 'imaging', 'lab', 'material', 'nursing', 'surgery']);
  });
  it('has a 医保 coverage carrying the paid share, and a commercial one', () => {
    for (const record of all) {
      const coverages = resourcesOf(record.bundle, 'Coverage');
      const social = coverages.find((c) => c.type.coding[0].code === 'social-medical-insurance');
      const commercial = coverages.find((c) => c.type.coding[0].code === 'commercial-health-insurance');
      expect(social.type.coding[0]).toEqual({ system: 'https://hdx.local/fhir/CodeSystem/coverage-type', code: 'social-medical-insurance', display: '基本医疗保险' });
      expect(social.subscriberId).toBe(record.patient.socialInsuranceNumber);
      expect(social.payor[0].display).toBe('深圳市医疗保障局');
      const paid = social.extension.find((e: { url: string }) => e.url === 'https://hdx.local/fhir/StructureDefinition/social-insurance-paid');
      expect(paid.valueMoney).toEqual({ value: record.socialInsurancePaid, currency: 'CNY' });
      const share = record.socialInsurancePaid / record.totalCharges;
      expect(share).toBeGreaterThan(0.4);
      expect(share).toBeLessThan(0.8);
      expect(commercial.payor[0].display).toMatch(/保险/);
      expect(epoch(`${commercial.period.start}T00:00:00+08:00`)).toBeLessThan(epoch(record.serviceStart));
      expect(epoch(`${commercial.period.end}T00:00:00+08:00`)).toBeGreaterThan(epoch(record.serviceEnd));
    }
  });
});
