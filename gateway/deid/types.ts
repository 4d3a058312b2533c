/** The de-identification contract the gateway codes against. Keep it stable. */

export type DataCategory = 'encounter' | 'diagnosis' | 'procedure' | 'medication' | 'lab' | 'charges' | 'notes';

export const DATA_CATEGORIES: readonly DataCategory[] = ['encounter', 'diagnosis', 'procedure', 'medication', 'lab', 'charges', 'notes'];

export type Purpose = 'DIRECT_SETTLEMENT' | 'CLAIM' | 'STATISTICS';

export interface DeidContext {
  purpose: Purpose;
  categories: DataCategory[];
  /** The per-insurer pseudonym of the patient; becomes Patient.id (a FHIR id: [A-Za-z0-9-.]{1,64}). */
  pseudonym: string;
  /** The commercial policy number from the consent; set on the commercial Coverage. */
  policyNumber: string;
  /** Per-insurer keys, derived by the gateway. */
  keys: { cryptoHashKey: string; dateShiftKey: string; encryptKey: string };
  /** The hospital's identifier systems (MRN, visit number): their value shapes are scrubbed from text. */
  hospitalIdentifierSystems?: string[];
  /** A profile by name, instead of the purpose's default. */
  profile?: string;
}

/** What de-identification did: counts only, never values. Goes into the transfer's audit event. */
export interface DeidReport {
  profile: string;
  resourcesIn: number;
  resourcesOut: number;
  /** Per resource type, the resources left out (outside the consented categories, or not the patient). */
  resourcesDropped: Record<string, number>;
  /** Per method, the elements it changed (for keep: the elements kept), plus the gateway's own steps. */
  methods: Record<string, number>;
  /** Per detector, the identifiers scrubbed from free text. */
  detectors: Record<string, number>;
}

export interface Deidentifier {
  /** Pure and synchronous (runs in a worker thread). Throws InvalidInput if the input is not a FHIR Bundle. */
  deidentify(bundle: unknown, ctx: DeidContext): { bundle: Record<string, unknown>; report: DeidReport };
  /** The names of the loaded profiles. */
  profiles(): string[];
}
