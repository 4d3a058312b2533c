/**
 * The clinical story of one stay, decided before any FHIR is written: when, why (diagnoses that fit the
 * patient's sex and age), what was done, given and measured. Resources, charges and the note are then
 * all rendered from this one plan, so they agree with each other.
 */
import { ageAt, chinaCalendarDate, chinaTime, DAY_MS, MINUTE_MS } from './china-time.js';
import type { SeededRandom } from './random.js';
import type { EncounterClass, SyntheticPatient } from './types.js';
import {
  COMORBIDITIES, DIAGNOSES, type Comorbidity, type DiagnosisProfile, type ProcedureCode,
} from './vocabulary/diagnoses.js';
import { LAB_TESTS, type LabTest } from './vocabulary/labs.js';
import { MEDICATIONS, type Medication } from './vocabulary/medications.js';
import { DOCTOR_NAMES, splitName } from './vocabulary/names.js';

export interface PlannedProcedure { code: ProcedureCode; start: number; end: number }
export interface PlannedLab { test: LabTest; value: number; time: number }

export interface StayPlan {
  encounterClass: EncounterClass;
  diagnosis: DiagnosisProfile;
  comorbidities: Comorbidity[];
  /** Epoch ms. */
  start: number;
  end: number;
  /** Nights in hospital; 0 for an outpatient visit. */
  lengthOfStay: number;
  ageAtDischarge: number;
  procedures: PlannedProcedure[];
  medications: Medication[];
  labs: PlannedLab[];
  imaging?: { name: string; price: readonly [number, number]; time: number };
  doctor: string;
}

const EARLIEST_DEFAULT_DISCHARGE = chinaTime(2024, 1, 2);
const MIN_INPATIENT_DAYS = 2;
const MAX_INPATIENT_DAYS = 12;

export function planStay(
  rng: SeededRandom, patient: SyntheticPatient, encounterClass: EncounterClass, dischargeDate?: Date,
): StayPlan {
  const [year, month, day] = chinaCalendarDate(dischargeDate?.getTime() ?? EARLIEST_DEFAULT_DISCHARGE + rng.int(0, 360) * DAY_MS);
  const dischargeDay = chinaTime(year, month, day);
  const age = ageAt(patient.birthDate, dischargeDay);
  const diagnosis = pickDiagnosis(rng, encounterClass, patient.gender, age);
  const inpatient = encounterClass === 'IMP';
  const lengthOfStay = inpatient
    ? Math.min(MAX_INPATIENT_DAYS, Math.max(MIN_INPATIENT_DAYS, rng.int(...diagnosis.lengthOfStay)))
    : 0;
  const start = inpatient
    ? dischargeDay - lengthOfStay * DAY_MS + rng.int(7 * 60, 22 * 60) * MINUTE_MS
    : dischargeDay + rng.int(8 * 60, 16 * 60) * MINUTE_MS;
  const dischargeTime = dischargeDay + rng.int(9 * 60, 11 * 60 + 30) * MINUTE_MS;
  // Inpatient procedures start within the first third of the stay; an outpatient one soon after arrival.
  const latestProcedureStart = inpatient ? (dischargeTime - start) / 3 : 40 * MINUTE_MS;
  const procedures = planProcedures(rng, rng.pick(diagnosis.procedures), start, latestProcedureStart);
  const lastProcedureEnd = Math.max(start, ...procedures.map((procedure) => procedure.end));
  const end = inpatient ? dischargeTime : lastProcedureEnd + rng.int(30, 120) * MINUTE_MS;
  const during = () => start + Math.floor(rng.next() * (end - start - 30 * MINUTE_MS)) + 10 * MINUTE_MS;

  const medicationCount = rng.int(2, Math.min(5, diagnosis.medications.length));
  const labCount = rng.int(2, Math.min(5, diagnosis.labs.length));
  const familySurnames = new Set([patient.surname, ...patient.relatives.map((relative) => splitName(relative.name).family)]);
  return {
    encounterClass,
    diagnosis,
    comorbidities: pickComorbidities(rng, diagnosis, age),
    start,
    end,
    lengthOfStay,
    ageAtDischarge: age,
    procedures,
    medications: rng.sample(diagnosis.medications, medicationCount).map((key) => MEDICATIONS[key]),
    labs: rng.sample(diagnosis.labs, labCount).map((lab) => {
      const [key, range] = typeof lab === 'string' ? [lab, undefined] : lab;
      const test = LAB_TESTS[key];
      const [low, high] = range ?? test.typical;
      return { test, value: rng.decimal(low, high, test.decimals), time: during() };
    }),
    ...(diagnosis.imaging !== undefined && (inpatient || rng.chance(0.5))
      ? { imaging: { ...diagnosis.imaging, time: during() } }
      : {}),
    // The signing doctor never shares a surname with the family, so no name variant of theirs collides.
    doctor: rng.pick(DOCTOR_NAMES.filter((name) => !familySurnames.has(splitName(name).family))),
  };
}

function pickDiagnosis(rng: SeededRandom, setting: EncounterClass, sex: 'male' | 'female', age: number): DiagnosisProfile {
  const eligible = DIAGNOSES.filter(
    (d) => d.setting === setting && (d.sex === undefined || d.sex === sex) && age >= (d.minAge ?? 0) && age <= (d.maxAge ?? 150),
  );
  return rng.pick(eligible);
}

function pickComorbidities(rng: SeededRandom, principal: DiagnosisProfile, age: number): Comorbidity[] {
  if (principal.code === 'O80') return [];
  const eligible = COMORBIDITIES.filter((c) => c.code !== principal.code && age >= c.minAge);
  return rng.sample(eligible, rng.int(0, Math.min(2, eligible.length)));
}

/** Procedures one after another, the first between 10 minutes and `latestStart` after admission. */
function planProcedures(
  rng: SeededRandom, codes: readonly ProcedureCode[], admitted: number, latestStart: number,
): PlannedProcedure[] {
  let cursor = admitted + rng.int(10, Math.max(10, Math.floor(latestStart / MINUTE_MS))) * MINUTE_MS;
  return codes.map((code) => {
    const start = cursor;
    const end = start + rng.int(...code.durationMinutes) * MINUTE_MS;
    cursor = end + rng.int(10, 30) * MINUTE_MS;
    return { code, start, end };
  });
}
