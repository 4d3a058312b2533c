export { createGenerator } from './generator.js';
export { canonicalForm, identifiersIn, identifiersInAnyForm } from './leak-scan.js';
export { fullWidth, nameVariant, numberVariant } from './variant-forms.js';
export type { SyntheticGenerator } from './generator.js';
export type {
  DischargeRecordOptions, EncounterClass, FhirBundle, FhirResource, Gender, SyntheticPatient, SyntheticRecord,
  SyntheticRelative,
} from './types.js';
