/** De-identification: the gateway's contract (re-exports only). */
export type { DataCategory, Purpose, DeidContext, DeidReport, Deidentifier } from './types.js';
export { DATA_CATEGORIES } from './types.js';
export { createDeidentifier } from './deidentifier.js';
export { loadProfile } from './engine/profile.js';
export type { CompiledProfile } from './engine/types.js';
export { InvalidProfile, DeidProcessingError } from './engine/errors.js';
export { anonymizeResource } from './engine/anonymize.js';
