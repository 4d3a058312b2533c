/**
 * The patient, whatever the profile says: direct identifiers (identifiers, names, telecom, photo,
 * contacts and relatives, links to other patients, narrative, extensions, address below city) are
 * removed and `Patient.id` becomes the per-insurer pseudonym, protected from the profile's rules.
 * (References to the patient are rewritten in references.ts.)
 */
import { childInfo } from './engine/model.js';
import { makeNode, type FNode } from './engine/node.js';
import { protect, removeChildren } from './tree.js';

const DIRECT_IDENTIFIERS = new Set(['identifier', 'name', 'telecom', 'photo', 'contact', 'link', 'text', 'extension']);
const ADDRESS_BELOW_CITY = new Set(['line', 'district', 'postalCode', 'text']);

export interface PatientOutcome {
  /** Direct-identifier elements removed from the Patient. */
  removed: number;
  /** The pseudonymous id: the scrubber leaves it alone. */
  idNode: FNode;
}

export function pseudonymisePatient(patient: FNode, pseudonym: string): PatientOutcome {
  let removed = removeChildren(patient, DIRECT_IDENTIFIERS);
  for (const child of patient.children) if (child.name === 'address') removed += removeChildren(child, ADDRESS_BELOW_CITY);
  let idNode = patient.children.find((child) => child.name === 'id');
  if (idNode === undefined) {
    const info = childInfo(patient.typePath, 'id')!;
    idNode = makeNode(info, info.type, info.typePath, pseudonym, patient, false);
    patient.children.unshift(idNode);
  }
  idNode.value = pseudonym;
  protect(idNode);
  return { removed, idNode };
}
