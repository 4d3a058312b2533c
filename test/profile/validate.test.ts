/** The discharge profile's checks on their own: resident IDs, purposes' needs, intake mappings, wording. */
import { describe, expect, it } from 'vitest';
import {
  DEFAULT_INTAKE, IntakeConfigError, LEGACY_RESIDENT_ID_OID, NATIONAL_ID_OID, parseIntakeConfig, problemLine,
  stayAmounts, validateDischargeBundle, type Json,
} from '../../profile/index.js';
import { bundleOf, HOSPITAL_EXTENSION, recordsFrom, resourceOf, resources, withHospitalExtension, withoutAmounts, withResidentIdSystem } from './support.js';

const record = recordsFrom(9001);
const lines = (bundle: Json, options: Parameters<typeof validateDischargeBundle>[1] = {}) =>
  validateDischargeBundle(bundle, options).problems.map(problemLine);

describe('resident IDs as hospitals send them', () => {
  it('accepts the WS/T 500 national OID, the earlier OID, and the NNCHN type under any system', () => {
    const r = record();
    for (const bundle of [
      withResidentIdSystem(bundleOf(r), NATIONAL_ID_OID),
      withResidentIdSystem(bundleOf(r), LEGACY_RESIDENT_ID_OID),
      withResidentIdSystem(bundleOf(r), 'https://his.example.cn/id-card', 'NNCHN'),
      withResidentIdSystem(bundleOf(r), undefined, 'NNCHN'),
    ]) {
      const result = validateDischargeBundle(bundle, { purpose: 'DIRECT_SETTLEMENT' });
      expect(result.problems).toEqual([]);
      expect(result.residentId).toBe(r.patient.nationalId);
    }
  });

  it('normalises a lower-case x and separators before the check', () => {
    const r = record();
    const bundle = bundleOf(r);
    const identifier = (resourceOf(bundle, 'Patient')['identifier'] as Json[])[0]!;
    const id = r.patient.nationalId;
    identifier['value'] = `${id.slice(0, 6)} ${id.slice(6, 14)}-${id.slice(14).toLowerCase()}`;
    expect(validateDischargeBundle(bundle).residentId).toBe(id.toUpperCase());
  });

  it('refuses a wrong check character, naming the element and never the value', () => {
    const r = record();
    const bundle = bundleOf(r);
    const identifier = (resourceOf(bundle, 'Patient')['identifier'] as Json[])[0]!;
    const id = r.patient.nationalId;
    const wrong = id.slice(0, 17) + (id.endsWith('0') ? '1' : '0');
    identifier['value'] = wrong;
    const found = lines(bundle);
    expect(found).toEqual([expect.stringMatching(/^Bundle\.entry\[0\]\.resource\(Patient\)\.identifier\[0\]\.value must be .*MOD 11-2 check character$/)]);
    expect(found.join()).not.toContain(wrong.slice(0, 10));
    expect(validateDischargeBundle(bundle).residentId).toBeUndefined();
  });

  it('refuses a bundle whose resident ID is under a system the operator did not configure, naming what is accepted', () => {
    const bundle = withResidentIdSystem(bundleOf(record()), 'https://his.example.cn/id-card', 'NI');
    expect(lines(bundle)).toEqual([
      `Bundle.entry[0].resource(Patient).identifier must hold exactly one resident ID: an identifier with system ${NATIONAL_ID_OID} or ${LEGACY_RESIDENT_ID_OID}, or type v2-0203#NNCHN`,
    ]);
    const onlyNational = parseIntakeConfig({ version: 1, residentId: { systems: [NATIONAL_ID_OID], typeCodes: [] } });
    expect(lines(bundleOf(record()), { config: onlyNational })).toHaveLength(1);
    expect(lines(withResidentIdSystem(bundleOf(record()), NATIONAL_ID_OID), { config: onlyNational })).toEqual([]);
  });

  it('refuses two different resident IDs on one patient', () => {
    const bundle = bundleOf(record());
    const ids = resourceOf(bundle, 'Patient')['identifier'] as Json[];
    ids.push({ system: NATIONAL_ID_OID, value: record().patient.nationalId });
    expect(lines(bundle)).toEqual([expect.stringMatching(/identifier must hold exactly one resident ID.*found differing values/)]);
  });
});

describe('what a purpose needs', () => {
  it('refuses a direct-settlement bundle without amounts, naming each, and lets statistics through', () => {
    const bundle = withoutAmounts(bundleOf(record()));
    expect(lines(bundle, { purpose: 'DIRECT_SETTLEMENT' })).toEqual([
      "ExplanationOfBenefit.total.where(category.coding.code = 'submitted') or Invoice.totalGross is required for DIRECT_SETTLEMENT (the total charges: Money in CNY)",
      "ExplanationOfBenefit.total.where(category.coding.code = 'benefit') is required for DIRECT_SETTLEMENT (the 医保-paid share: Money in CNY)",
    ]);
    expect(lines(bundle, { purpose: 'CLAIM' })).toHaveLength(1);
    expect(lines(bundle, { purpose: 'STATISTICS' })).toEqual([]);
  });

  it('refuses a direct-settlement bundle without an ICD-10 diagnosis or dates of service', () => {
    const bundle = bundleOf(record());
    bundle['entry'] = (bundle['entry'] as Array<{ resource: Json }>).filter((e) => e.resource['resourceType'] !== 'Condition');
    delete (resourceOf(bundle, 'Encounter')['period'] as Json)['end'];
    expect(lines(bundle, { purpose: 'DIRECT_SETTLEMENT' })).toEqual([
      'Bundle.entry[1].resource(Encounter).period.end is required',
      'Bundle.entry.resource(Condition).code must include a diagnosis coded in ICD-10 (http://hl7.org/fhir/sid/icd-10 or urn:oid:2.16.156.10011.2.3.3.11) for DIRECT_SETTLEMENT',
    ]);
  });

  it('accepts ICD-10 under the WS 364 OID and 国家临床版 codes', () => {
    const bundle = bundleOf(record());
    const condition = resources(bundle).find((r) => r['resourceType'] === 'Condition')!;
    condition['code'] = { coding: [{ system: 'urn:oid:2.16.156.10011.2.3.3.11', code: 'K35.800x001' }] };
    expect(lines(bundle, { purpose: 'DIRECT_SETTLEMENT' })).toEqual([]);
  });

  it('refuses amounts that do not add up', () => {
    const bundle = bundleOf(record());
    const coverage = resources(bundle).find((r) => Array.isArray(r['extension']))!;
    const total = (resourceOf(bundle, 'Invoice')['totalGross'] as { value: number }).value;
    (coverage['extension'] as Json[])[0]!['valueMoney'] = { value: total + 1, currency: 'CNY' };
    expect(lines(bundle, { purpose: 'DIRECT_SETTLEMENT' })).toEqual([
      "ExplanationOfBenefit.total.where(category.coding.code = 'benefit') must not exceed the total charges",
    ]);
  });
});

describe('intake mappings', () => {
  const mapping = { element: 'socialInsurancePaid', extension: HOSPITAL_EXTENSION, hospitals: ['nanshan-people'] };

  it('fill the standard 医保 EOB from a hospital’s own extension, for the hospitals named', () => {
    const r = record();
    const config = parseIntakeConfig({ version: 1, mappings: [mapping] });
    const unmapped = withHospitalExtension(bundleOf(r));
    expect(lines(unmapped, { purpose: 'DIRECT_SETTLEMENT', config: DEFAULT_INTAKE })).toEqual([
      expect.stringMatching(/category.coding.code = 'benefit'\) is required for DIRECT_SETTLEMENT/),
    ]);
    expect(lines(structuredClone(unmapped), { purpose: 'DIRECT_SETTLEMENT', config, hospitalId: 'szu-general' })).toHaveLength(1);

    const result = validateDischargeBundle(unmapped, { purpose: 'DIRECT_SETTLEMENT', config, hospitalId: 'nanshan-people' });
    expect(result.problems).toEqual([]);
    expect(result.mapped).toEqual(['socialInsurancePaid']);
    const eob = resourceOf(unmapped, 'ExplanationOfBenefit');
    expect(eob['total']).toEqual([
      { category: { coding: [{ system: 'http://terminology.hl7.org/CodeSystem/adjudication', code: 'benefit', display: 'Benefit Amount' }] }, amount: { value: r.socialInsurancePaid, currency: 'CNY' } },
    ]);
    expect(stayAmounts(unmapped)).toMatchObject({ socialInsurancePaid: Math.round(r.socialInsurancePaid * 100), totalCharges: Math.round(r.totalCharges * 100) });
    // What the gateway adds passes the profile's own schema.
    expect(lines(unmapped, { purpose: 'DIRECT_SETTLEMENT', config: DEFAULT_INTAKE })).toEqual([]);
  });

  it('take a FHIRPath expression as the source', () => {
    const r = record();
    const config = parseIntakeConfig({
      version: 1,
      mappings: [{ element: 'socialInsurancePaid', path: `Bundle.entry.resource.ofType(Coverage).extension.where(url = '${HOSPITAL_EXTENSION}').value` }],
    });
    const result = validateDischargeBundle(withHospitalExtension(bundleOf(r)), { purpose: 'DIRECT_SETTLEMENT', config });
    expect(result.problems).toEqual([]);
    expect(result.amounts.socialInsurancePaid).toBe(Math.round(r.socialInsurancePaid * 100));
  });

  it('leave a bundle that states the amount in the standard element alone', () => {
    const bundle = bundleOf(record());
    const first = validateDischargeBundle(bundle, { purpose: 'DIRECT_SETTLEMENT' });
    expect(first.mapped).toEqual(['socialInsurancePaid']);
    expect(validateDischargeBundle(bundle, { purpose: 'DIRECT_SETTLEMENT' }).mapped).toEqual([]);
  });

  it('are checked when loaded, each problem named', () => {
    const bad = () =>
      parseIntakeConfig({
        version: 1,
        mappings: [{ element: 'insurerPaid', extension: HOSPITAL_EXTENSION }, { element: 'patientPaid', path: 'Bundle.entry.where(' }, { element: 'totalCharges' }],
        residentId: { systems: ['urn:oid:2.16.156.10011.1.3'] },
      });
    expect(bad).toThrow(IntakeConfigError);
    expect(bad).toThrow(/intake\.mappings\[0\]\.element must be one of "totalCharges", "socialInsurancePaid", "patientPaid"/);
    expect(bad).toThrow(/intake\.mappings\[1\]\.path must be a FHIRPath expression that parses/);
    expect(bad).toThrow(/intake\.mappings\[2\] must name exactly one source: extension or path/);
    expect(bad).toThrow(/intake\.residentId\.typeCodes is required/);
  });
});

describe('messages', () => {
  it('never carry a value from the bundle', () => {
    const r = record();
    const bundle = withoutAmounts(bundleOf(r));
    const patient = resourceOf(bundle, 'Patient');
    patient['gender'] = r.patient.name;
    patient['birthDate'] = r.patient.phone;
    const text = lines(bundle, { purpose: 'DIRECT_SETTLEMENT' }).join('\n');
    expect(text).toMatch(/gender must be one of/);
    for (const value of r.identifiers) expect(text).not.toContain(value);
  });
});
