/** The seeded generator: one PRNG stream per generator, so the same seed and calls give the same data. */
import { generatePatient } from './patient.js';
import { SeededRandom } from './random.js';
import { buildDischargeRecord } from './record.js';
import type { DischargeRecordOptions, SyntheticPatient, SyntheticRecord } from './types.js';

export interface SyntheticGenerator {
  patient(): SyntheticPatient;
  dischargeRecord(options: DischargeRecordOptions): SyntheticRecord;
}

export function createGenerator(seed: number): SyntheticGenerator {
  const rng = new SeededRandom(seed);
  return {
    patient: () => generatePatient(rng),
    dischargeRecord: (options) => buildDischargeRecord(rng, options),
  };
}
