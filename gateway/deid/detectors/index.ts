export type { Detection, DetectOptions, DetectorName, KnownValues } from './types.js';
export { detect } from './detect.js';
export { scrub, REDACTION_MARKER } from './scrub.js';
export type { ScrubResult } from './scrub.js';
export { collectKnownValues, knownValuesFromPatient } from './known-values-from-patient.js';
export { isValidResidentId, residentIdCheckDigit } from './resident-id.js';
export { isLuhnValid } from './luhn.js';
