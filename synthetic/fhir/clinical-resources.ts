/** Conditions (ICD-10), Procedures (ICD-9-CM-3), MedicationRequests (ATC) and lab Observations (LOINC). */
import { fhirDateTime, MINUTE_MS } from '../china-time.js';
import type { FhirResource } from '../types.js';
import { ICD10_SYSTEM, ICD9CM_SYSTEM } from '../vocabulary/diagnoses.js';
import { LOINC_SYSTEM, UCUM_SYSTEM } from '../vocabulary/labs.js';
import { ATC_SYSTEM } from '../vocabulary/medications.js';
import type { RecordContext } from './context.js';
import {
  CONDITION_CATEGORY, CONDITION_CLINICAL, CONDITION_VERIFICATION, OBSERVATION_CATEGORY, reference, V3_INTERPRETATION,
} from './systems.js';

export function conditionResources(ctx: RecordContext): FhirResource[] {
  const { plan, urns } = ctx;
  const diagnoses = [plan.diagnosis, ...plan.comorbidities];
  return diagnoses.map((diagnosis, index) => ({
    resourceType: 'Condition',
    id: urns.conditions[index]?.id,
    clinicalStatus: { coding: [{ system: CONDITION_CLINICAL, code: 'active' }] },
    verificationStatus: { coding: [{ system: CONDITION_VERIFICATION, code: 'confirmed' }] },
    category: [{ coding: [{ system: CONDITION_CATEGORY, code: 'encounter-diagnosis', display: 'Encounter Diagnosis' }] }],
    code: { coding: [{ system: ICD10_SYSTEM, code: diagnosis.code, display: diagnosis.display }], text: diagnosis.display },
    subject: reference(urns.patient.urn),
    encounter: reference(urns.encounter.urn),
    recordedDate: fhirDateTime(plan.start + 20 * MINUTE_MS),
  }));
}

export function procedureResources(ctx: RecordContext): FhirResource[] {
  const { plan, urns } = ctx;
  return plan.procedures.map((procedure, index) => ({
    resourceType: 'Procedure',
    id: urns.procedures[index]?.id,
    status: 'completed',
    code: { coding: [{ system: ICD9CM_SYSTEM, code: procedure.code.code, display: procedure.code.display }], text: procedure.code.display },
    subject: reference(urns.patient.urn),
    encounter: reference(urns.encounter.urn),
    performedPeriod: { start: fhirDateTime(procedure.start), end: fhirDateTime(procedure.end) },
    reasonReference: [reference(urns.conditions[0]?.urn ?? '')],
  }));
}

export function medicationRequestResources(ctx: RecordContext): FhirResource[] {
  const { plan, urns } = ctx;
  return plan.medications.map((medication, index) => ({
    resourceType: 'MedicationRequest',
    id: urns.medicationRequests[index]?.id,
    status: 'completed',
    intent: 'order',
    medicationCodeableConcept: { coding: [{ system: ATC_SYSTEM, code: medication.atc, display: medication.name }], text: medication.name },
    subject: reference(urns.patient.urn),
    encounter: reference(urns.encounter.urn),
    authoredOn: fhirDateTime(Math.min(plan.end, plan.start + 60 * MINUTE_MS)),
    requester: { display: plan.doctor },
    dosageInstruction: [{ text: medication.dosage }],
  }));
}

export function observationResources(ctx: RecordContext): FhirResource[] {
  const { plan, urns } = ctx;
  return plan.labs.map(({ test, value, time }, index) => {
    const quantity = (v: number) => ({ value: v, unit: test.unit, system: UCUM_SYSTEM, code: test.ucum });
    const [low, high] = test.reference;
    const interpretation = value > high ? 'H' : value < low ? 'L' : 'N';
    return {
      resourceType: 'Observation',
      id: urns.observations[index]?.id,
      status: 'final',
      category: [{ coding: [{ system: OBSERVATION_CATEGORY, code: 'laboratory', display: 'Laboratory' }] }],
      code: { coding: [{ system: LOINC_SYSTEM, code: test.loinc, display: test.name }], text: test.name },
      subject: reference(urns.patient.urn),
      encounter: reference(urns.encounter.urn),
      effectiveDateTime: fhirDateTime(time),
      issued: new Date(time + 90 * MINUTE_MS).toISOString(),
      valueQuantity: quantity(value),
      interpretation: [{ coding: [{ system: V3_INTERPRETATION, code: interpretation }] }],
      referenceRange: [{ low: quantity(low), high: quantity(high) }],
    };
  });
}
