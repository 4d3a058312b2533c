/** The Encounter: class, visit number, period, ranked diagnoses, discharge disposition and hospital. */
import { fhirDateTime } from '../china-time.js';
import type { FhirResource } from '../types.js';
import { UCUM_SYSTEM } from '../vocabulary/labs.js';
import type { RecordContext } from './context.js';
import {
  DIAGNOSIS_ROLE, DISCHARGE_DISPOSITION, HOSPITAL_ID_SYSTEM, reference, V3_ACT_CODE, visitSystem,
} from './systems.js';

export function encounterResource(ctx: RecordContext): FhirResource {
  const { plan, urns, hospital } = ctx;
  const inpatient = plan.encounterClass === 'IMP';
  return {
    resourceType: 'Encounter',
    id: urns.encounter.id,
    identifier: [{ use: 'official', system: visitSystem(hospital.id), value: ctx.visitNumber }],
    status: 'finished',
    class: { system: V3_ACT_CODE, code: plan.encounterClass, display: inpatient ? 'inpatient encounter' : 'ambulatory' },
    type: [{ text: inpatient ? '住院' : '门诊' }],
    serviceType: { text: plan.diagnosis.department },
    subject: reference(urns.patient.urn),
    participant: [{ individual: { display: plan.doctor } }],
    period: { start: fhirDateTime(plan.start), end: fhirDateTime(plan.end) },
    ...(inpatient ? { length: { value: plan.lengthOfStay, unit: '天', system: UCUM_SYSTEM, code: 'd' } } : {}),
    reasonCode: [{ text: plan.diagnosis.complaint }],
    // Rank 1 with role DD is the principal (discharge) diagnosis; the others are comorbidities.
    diagnosis: urns.conditions.map((condition, index) => ({
      condition: reference(condition.urn),
      use: {
        coding: [
          index === 0
            ? { system: DIAGNOSIS_ROLE, code: 'DD', display: 'Discharge diagnosis' }
            : { system: DIAGNOSIS_ROLE, code: 'CM', display: 'Comorbidity diagnosis' },
        ],
      },
      rank: index + 1,
    })),
    hospitalization: {
      dischargeDisposition: {
        coding: [{ system: DISCHARGE_DISPOSITION, code: 'home', display: 'Home' }],
        text: inpatient ? '好转出院' : '诊毕离院',
      },
    },
    serviceProvider: { identifier: { system: HOSPITAL_ID_SYSTEM, value: hospital.id }, display: hospital.name },
  };
}
