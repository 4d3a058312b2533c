/** The `meta.security` labels the anonymizer adds to each processed resource, in its order. */
import { childInfo } from './model.js';
import type { FNode } from './node.js';
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

function element(parent: FNode, typePath: string, name: string, value: string | null = null): FNode {
  const info = childInfo(typePath, name)!;
  const node: FNode = {
    name, type: info.type, typePath: info.typePath, info, value, children: [], parent, resource: false, visited: true,
  };
  parent.children.push(node);
  return node;
}

/** Adds the labels for `ops` that the resource's meta does not carry yet (compared by code, ignoring case). */
export function addSecurityLabels(resource: FNode, ops: number): void {
  if (ops === 0) return;
  let meta = resource.children.find((child) => child.name === 'meta');
  const present = new Set<string>();
  if (meta !== undefined) {
    for (const coding of meta.children) {
      if (coding.name !== 'security') continue;
      const code = coding.children.find((child) => child.name === 'code')?.value;
      if (typeof code === 'string') present.add(code.toUpperCase());
    }
  }
  for (const label of LABELS) {
    if ((ops & label.op) === 0 || present.has(label.code)) continue;
    if (meta === undefined) {
      meta = element(resource, resource.typePath, 'meta');
      // Place meta right after id, where FHIR serialisers put it.
      resource.children.pop();
      const idAt = resource.children.findIndex((child) => child.name === 'id');
      resource.children.splice(idAt + 1, 0, meta);
    }
    const coding = element(meta, 'Meta', 'security');
    if (label.system !== undefined) element(coding, 'Coding', 'system', label.system);
    element(coding, 'Coding', 'code', label.code);
    element(coding, 'Coding', 'display', label.display);
  }
}

/** The anonymizer's "empty element": what a resource becomes when processing fails and errors are skipped. */
export function emptyResource(resourceType: string): Record<string, unknown> {
  const redacted = LABELS[0]!;
  return { resourceType, meta: { security: [{ system: redacted.system, code: redacted.code, display: redacted.display }] } };
}
