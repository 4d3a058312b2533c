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

const FREE_TEXT_TYPES = new Set(['Narrative', 'Annotation', 'Attachment']);

/** Removes narratives, annotations and attachments below `node` (not entering nested resources). Returns how many. */
export function dropFreeText(node: FNode): number {
  let dropped = 0;
  const kept: FNode[] = [];
  for (const child of node.children) {
    if (!child.resource && FREE_TEXT_TYPES.has(child.type)) {
      dropped++;
      continue;
    }
    if (!child.resource && child.children.length > 0) dropped += dropFreeText(child);
    kept.push(child);
  }
  node.children = kept;
  return dropped;
}

/** Text attachments can be scrubbed; anything else (PDF, images) cannot, so it is dropped even with notes. */
export function dropUnscrubbableAttachments(node: FNode): number {
  let dropped = 0;
  const kept: FNode[] = [];
  for (const child of node.children) {
    if (!child.resource && child.type === 'Attachment' && !isTextAttachment(child)) {
      dropped++;
      continue;
    }
    if (!child.resource && child.children.length > 0) dropped += dropUnscrubbableAttachments(child);
    kept.push(child);
  }
  node.children = kept;
  return dropped;
}

export function isTextAttachment(attachment: FNode): boolean {
  const contentType = attachment.children.find((child) => child.name === 'contentType')?.value;
  const hasData = attachment.children.some((child) => child.name === 'data');
  return !hasData || (typeof contentType === 'string' && /^text\/(plain|markdown)\b/i.test(contentType.trim()));
}
