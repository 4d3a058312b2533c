/** Shared types of the free-text identifier detectors. */

export type DetectorName =
  | 'resident-id'
  | 'mobile'
  | 'landline'
  | 'email'
  | 'url'
  | 'ip'
  | 'bank-card'
  | 'plate'
  | 'passport'
  | 'hk-macau-permit'
  | 'record-number'
  | 'known-value';

/** One identifier found in a text; offsets are UTF-16 code units, `end` exclusive. */
export interface Detection {
  detector: DetectorName;
  start: number;
  end: number;
}

/** The patient's own values and their variants (longest first), e.g. from `knownValuesFromPatient`. */
export interface KnownValues {
  values: string[];
}

export interface DetectOptions {
  known?: KnownValues;
  /** MRN/visit-number shapes built by the caller from the hospital's identifier systems. */
  recordNumberPatterns?: RegExp[];
}

export interface Span {
  start: number;
  end: number;
}

/** One kind of identifier. `needsDigit` lets `detect` skip it on the many strings without a digit. */
export interface Detector {
  readonly name: DetectorName;
  readonly needsDigit: boolean;
  find(text: string, options: DetectOptions): Span[];
}
