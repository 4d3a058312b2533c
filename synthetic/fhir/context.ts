/** Everything the resource builders of one record share: the story, the bill and the entries' URNs. */
import type { Bill } from '../charges.js';
import type { SeededRandom } from '../random.js';
import type { StayPlan } from '../stay-plan.js';
import type { SyntheticPatient } from '../types.js';

export interface EntryId {
  id: string;
  urn: string;
}

export interface RecordUrns {
  bundle: EntryId;
  patient: EntryId;
  encounter: EntryId;
  conditions: EntryId[];
  procedures: EntryId[];
  medicationRequests: EntryId[];
  observations: EntryId[];
  chargeItems: EntryId[];
  invoice: EntryId;
  socialCoverage: EntryId;
  commercialCoverage: EntryId;
  note: EntryId;
}

export interface RecordContext {
  rng: SeededRandom;
  hospital: { id: string; name: string };
  patient: SyntheticPatient;
  plan: StayPlan;
  bill: Bill;
  visitNumber: string;
  urns: RecordUrns;
}

export function newEntryId(rng: SeededRandom): EntryId {
  const id = rng.uuid();
  return { id, urn: `urn:uuid:${id}` };
}

/** One URN per resource the record will hold, drawn up front so resources can reference each other. */
export function allocateUrns(rng: SeededRandom, plan: StayPlan, bill: Bill): RecordUrns {
  const many = (count: number) => Array.from({ length: count }, () => newEntryId(rng));
  return {
    bundle: newEntryId(rng),
    patient: newEntryId(rng),
    encounter: newEntryId(rng),
    conditions: many(1 + plan.comorbidities.length),
    procedures: many(plan.procedures.length),
    medicationRequests: many(plan.medications.length),
    observations: many(plan.labs.length),
    chargeItems: many(bill.lines.length),
    invoice: newEntryId(rng),
    socialCoverage: newEntryId(rng),
    commercialCoverage: newEntryId(rng),
    note: newEntryId(rng),
  };
}
