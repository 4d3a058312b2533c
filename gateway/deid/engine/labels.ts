/** The `meta.security` labels the anonymizer adds to each processed resource, in its order. */
import { Op } from './types.js';

const V3 = 'http://terminology.hl7.org/CodeSystem/v3-ObservationValue';

interface Label {
  op: number;
  system?: string;
  code: string;
  display: string;
}

const LABELS: readonly Label[] = [
  { op: Op.Redact, system: V3, code: 'REDACTED', display: 'redacted' },
  { op: Op.Abstract, system: V3, code: 'ABSTRED', display: 'abstracted' },
  { op: Op.CryptoHash, system: V3, code: 'CRYTOHASH', display: 'cryptographic hash function' },
  { op: Op.Encrypt, code: 'ENCRYPT', display: 'exact value is transformed into ciphertext' },
  { op: Op.Perturb, code: 'PERTURBED', display: 'exact value is replaced with another exact value' },
  { op: Op.Substitute, code: 'SUBSTITUTED', display: 'exact value is replaced with a predefined value' },
  { op: Op.Generalize, code: 'GENERALIZED', display: 'exact value is replaced with a general value' },
];

type Json = Record<string, unknown>;

function coding(label: Label): Json {
  return label.system === undefined
    ? { code: label.code, display: label.display }
    : { system: label.system, code: label.code, display: label.display };
}

/** `existing` security codings plus a label for each op in `ops` not already there (by code, ignoring case). */
export function securityLabelsJson(ops: number, existing: Json[]): Json[] {
  if (existing.length === 0) {
    const out: Json[] = [];
    for (const label of LABELS) if ((ops & label.op) !== 0) out.push(coding(label));
    return out;
  }
  const present = new Set<string>();
  for (const item of existing) if (typeof item?.['code'] === 'string') present.add(item['code'].toUpperCase());
  const out = existing.slice();
  for (const label of LABELS) if ((ops & label.op) !== 0 && !present.has(label.code)) out.push(coding(label));
  return out;
}

/** The anonymizer's "empty element": what a resource becomes when processing fails and errors are skipped. */
export function emptyResource(resourceType: string): Json {
  return { resourceType, meta: { security: [coding(LABELS[0]!)] } };
}
