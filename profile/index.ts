/** The hdx discharge profile v1 (docs/spec/v1): schemas, resident IDs, amounts, intake mappings. */
export * from './amounts.js';
export * from './intake.js';
export * from './resident-id.js';
export * from './types.js';
export * from './validate.js';
