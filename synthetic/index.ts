export { createGenerator } from './generator.js';
export { identifiersIn } from './leak-scan.js';
export type { SyntheticGenerator } from './generator.js';
export type {
  DischargeRecordOptions, EncounterClass, FhirBundle, FhirResource, Gender, SyntheticPatient, SyntheticRecord,
  SyntheticRelative,
} from './types.js';
