import { describe, expect, it } from 'vitest';
import { isValidResidentId } from '../../gateway/deid/detectors/index.js';
import { createGenerator } from '../../synthetic/index.js';

const patients = (() => {
  const generator = createGenerator(2024);
  return Array.from({ length: 300 }, () => generator.patient());
})();

describe('synthetic patients', () => {
  it('have valid resident IDs that carry their birth date and sex', () => {
    for (const patient of patients) {
      expect(isValidResidentId(patient.nationalId)).toBe(true);
      expect(patient.nationalId.slice(6, 14)).toBe(patient.birthDate.replaceAll('-', ''));
      expect(Number(patient.nationalId.charAt(16)) % 2).toBe(patient.gender === 'male' ? 1 : 0);
      expect(patient.nationalId.slice(0, 2)).toBe('44'); // Guangdong
    }
  });
  it('have mainland mobile numbers, and so do their relatives', () => {
    for (const patient of patients) {
      expect(patient.phone).toMatch(/^1[3-9]\d{9}$/);
      for (const relative of patient.relatives) expect(relative.phone).toMatch(/^1[3-9]\d{9}$/);
    }
  });
  it('have Chinese names made of a surname and a one- or two-character given name', () => {
    for (const patient of patients) {
      expect(patient.name).toBe(patient.surname + patient.givenName);
      expect(patient.givenName).toMatch(/^\p{Script=Han}{1,2}$/u);
      expect(patient.surname).toMatch(/^\p{Script=Han}{1,2}$/u);
    }
    // The commonest surnames dominate, as in the population.
    const top = patients.filter((p) => ['王', '李', '张', '刘', '陈'].includes(p.surname)).length;
    expect(top / patients.length).toBeGreaterThan(0.2);
  });
  it('live at Shenzhen addresses with 518 postcodes', () => {
    for (const { address } of patients) {
      expect(address.province).toBe('广东省');
      expect(address.city).toBe('深圳市');
      expect(address.district).toMatch(/区$/);
      expect(address.postalCode).toMatch(/^518\d{3}$/);
      expect(address.line).toMatch(/\d+号.+\d+栋\d+室$/);
    }
  });
  it('have one or two relatives whose names differ from, and are not part of, the patient’s', () => {
    for (const patient of patients) {
      expect(patient.relatives.length).toBeGreaterThanOrEqual(1);
      expect(patient.relatives.length).toBeLessThanOrEqual(2);
      const names = [patient.name, ...patient.relatives.map((r) => r.name)];
      for (const a of names) for (const b of names) if (a !== b) expect(a.includes(b)).toBe(false);
      expect(new Set(names).size).toBe(names.length);
    }
  });
  it('have MRNs and 医保 card numbers, sometimes an e-mail', () => {
    for (const patient of patients) {
      expect(patient.mrn).toMatch(/^[1-9]\d{9}$/);
      expect(patient.socialInsuranceNumber).toMatch(/^\d{9}$/);
      if (patient.email !== undefined) expect(patient.email).toMatch(/^[a-z0-9]+@[a-z0-9]+\.(com|cn)$/);
    }
    const withEmail = patients.filter((p) => p.email !== undefined).length;
    expect(withEmail).toBeGreaterThan(0);
    expect(withEmail).toBeLessThan(patients.length);
  });
});
