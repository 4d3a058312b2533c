/**
 * Minimum necessary, before any rule runs: resources outside the consented categories are dropped, and
 * so is free text (narratives, annotations, attachments) unless `notes` is consented. The Patient is
 * always kept (it is pseudonymised); resource types that belong to no category are dropped.
 */
import type { FNode } from './engine/node.js';
import type { DataCategory } from './types.js';

const CATEGORY_OF: Readonly<Record<string, DataCategory>> = {
  Encounter: 'encounter',
  Condition: 'diagnosis',
  Procedure: 'procedure',
  Medication: 'medication',
  MedicationAdministration: 'medication',
  MedicationDispense: 'medication',
  MedicationRequest: 'medication',
  MedicationStatement: 'medication',
  Observation: 'lab',
  DiagnosticReport: 'lab',
  Specimen: 'lab',
  ChargeItem: 'charges',
  Invoice: 'charges',
  Claim: 'charges',
  ExplanationOfBenefit: 'charges',
  Coverage: 'charges',
  Account: 'charges',
  DocumentReference: 'notes',
  Composition: 'notes',
};

/** The category of a resource type; undefined for the Patient and for types outside every category. */
export function categoryOf(resourceType: string): DataCategory | undefined {
  return CATEGORY_OF[resourceType];
}

export function isConsented(resourceType: string, categories: ReadonlySet<DataCategory>): boolean {
  const category = CATEGORY_OF[resourceType];
  return category !== undefined && categories.has(category);
}

/** The element types that carry free text: narratives, annotations (notes), attachments (documents). */
export const FREE_TEXT_TYPES: ReadonlySet<string> = new Set(['Narrative', 'Annotation', 'Attachment']);

function detach(node: FNode): void {
  const parent = node.parent;
  if (parent !== null) parent.children = parent.children.filter((c) => c !== node);
}

/**
 * Without `notes`, every free-text element goes; with it, attachments that cannot be scrubbed (PDF,
 * images: anything but plain text) still go. `found` are the free-text nodes the parser collected.
 * Returns how many were removed.
 */
export function dropFreeText(found: readonly FNode[], notesConsented: boolean): number {
  let dropped = 0;
  for (const node of found) {
    if (notesConsented && (node.type !== 'Attachment' || isTextAttachment(node))) continue;
    detach(node);
    dropped++;
  }
  return dropped;
}

export function isTextAttachment(attachment: FNode): boolean {
  const contentType = attachment.children.find((child) => child.name === 'contentType')?.value;
  const hasData = attachment.children.some((child) => child.name === 'data');
  return !hasData || (typeof contentType === 'string' && /^text\/(plain|markdown)\b/i.test(contentType.trim()));
}
