/** One synthetic discharge record: the stay's story rendered as a FHIR R4 collection Bundle. */
import { billStay } from './charges.js';
import { fhirDate, fhirDateTime, MINUTE_MS } from './china-time.js';
import { plantAwkwardIdentifiers } from './awkward-identifiers.js';
import { plantVariantForms } from './variant-forms.js';
import { chargeItemResources, invoiceResource } from './fhir/billing-resources.js';
import {
  conditionResources, medicationRequestResources, observationResources, procedureResources,
} from './fhir/clinical-resources.js';
import { allocateUrns, type RecordContext } from './fhir/context.js';
import { commercialCoverageResource, socialCoverageResource } from './fhir/coverage-resources.js';
import { clinicalNote, documentReferenceResource, patientNarrative } from './fhir/discharge-note.js';
import { encounterResource } from './fhir/encounter-resource.js';
import { addressText, patientResource } from './fhir/patient-resource.js';
import { visitNumber as newVisitNumber } from './identifiers.js';
import { generatePatient } from './patient.js';
import type { SeededRandom } from './random.js';
import { planStay } from './stay-plan.js';
import type { DischargeRecordOptions, FhirBundle, FhirResource, SyntheticPatient, SyntheticRecord } from './types.js';
import { HOSPITAL_NAMES, KNOWN_HOSPITALS } from './vocabulary/organisations.js';

const HOSPITAL_ID = /^[a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?$/;

export function buildDischargeRecord(rng: SeededRandom, options: DischargeRecordOptions): SyntheticRecord {
  if (!HOSPITAL_ID.test(options.hospitalId)) throw new TypeError('hospitalId must be a DNS label (a-z, 0-9, -)');
  if (options.dischargeDate !== undefined && Number.isNaN(options.dischargeDate.getTime())) {
    throw new TypeError('dischargeDate must be a valid Date');
  }
  const hospital = { id: options.hospitalId, name: options.hospitalName ?? defaultHospitalName(options.hospitalId) };
  const patient = options.patient ?? generatePatient(rng);
  const encounterClass = options.encounterClass ?? (rng.chance(0.75) ? 'IMP' : 'AMB');
  const plan = planStay(rng, patient, encounterClass, options.dischargeDate);
  const bill = billStay(rng, plan);
  const visitNumber = newVisitNumber(rng, encounterClass === 'IMP', fhirDate(plan.start));
  const ctx: RecordContext = { rng, hospital, patient, plan, bill, visitNumber, urns: allocateUrns(rng, plan, bill) };

  const patientJson = patientResource(ctx);
  const encounter = encounterResource(ctx);
  const conditions = conditionResources(ctx);
  const medicationRequests = medicationRequestResources(ctx);
  const observations = observationResources(ctx);
  const invoice = invoiceResource(ctx);
  const planted: string[] = [];
  let documentReference: FhirResource | undefined;
  if (options.withNote === true) {
    const note = clinicalNote(ctx);
    planted.push(...note.planted);
    documentReference = documentReferenceResource(ctx, note);
    patientJson['text'] = patientNarrative(ctx);
  }
  if (options.plantAwkwardIdentifiers === true) {
    planted.push(
      ...plantAwkwardIdentifiers(ctx, {
        patient: patientJson, encounter, conditions, observations, medicationRequests, invoice,
        ...(documentReference !== undefined ? { documentReference } : {}),
      }),
    );
  }
  if (options.plantVariantForms === true) planted.push(...plantVariantForms(ctx, { conditions, observations }));
  const resources: FhirResource[] = [
    patientJson,
    encounter,
    ...conditions,
    ...procedureResources(ctx),
    ...medicationRequests,
    ...observations,
    ...chargeItemResources(ctx),
    invoice,
    socialCoverageResource(ctx),
    commercialCoverageResource(ctx),
    ...(documentReference !== undefined ? [documentReference] : []),
  ];
  const bundle: FhirBundle = {
    resourceType: 'Bundle',
    id: ctx.urns.bundle.id,
    type: 'collection',
    timestamp: fhirDateTime(plan.end + 30 * MINUTE_MS),
    entry: resources.map((resource) => ({ fullUrl: `urn:uuid:${resource.id ?? ''}`, resource })),
  };
  return {
    bundle,
    patient,
    encounterClass,
    serviceStart: fhirDateTime(plan.start),
    serviceEnd: fhirDateTime(plan.end),
    totalCharges: bill.totalFen / 100,
    socialInsurancePaid: bill.socialInsurancePaidFen / 100,
    identifiers: [...new Set([...plainIdentifiers(patient, visitNumber), ...planted])],
  };
}

/** The identifying values every record holds in its structured fields. */
function plainIdentifiers(patient: SyntheticPatient, visitNumber: string): string[] {
  return [
    patient.name,
    patient.nationalId,
    patient.phone,
    ...(patient.email !== undefined ? [patient.email] : []),
    patient.address.line,
    addressText(patient),
    patient.address.postalCode,
    patient.mrn,
    patient.socialInsuranceNumber,
    visitNumber,
    ...patient.relatives.flatMap((relative) => [relative.name, relative.phone]),
  ];
}

/** Known ids get their own hospital; others a stable pick, the same for the same id whatever the seed. */
function defaultHospitalName(hospitalId: string): string {
  const known = KNOWN_HOSPITALS[hospitalId];
  if (known !== undefined) return known;
  let hash = 0;
  for (const character of hospitalId) hash = (Math.imul(hash, 31) + (character.codePointAt(0) ?? 0)) >>> 0;
  return HOSPITAL_NAMES[hash % HOSPITAL_NAMES.length] ?? HOSPITAL_NAMES[0];
}
