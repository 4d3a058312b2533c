/**
 * The commercial policy number from the consent goes on the commercial Coverage (the one that is not
 * 医保) as an identifier with system `urn:hdx:policy-number`; without such a Coverage, a minimal one is
 * added. The identifier (and an added Coverage) is protected from the profile's rules.
 */
import { childInfo } from './engine/model.js';
import { resourceFromJson, type FNode } from './engine/node.js';
import { addElement, child, entryResources, protect } from './tree.js';

export const POLICY_NUMBER_SYSTEM = 'urn:hdx:policy-number';
const SOCIAL_INSURANCE_CODE = 'social-medical-insurance';
const COVERAGE_TYPE_SYSTEM = 'https://hdx.local/fhir/CodeSystem/coverage-type';
const DATA_ABSENT = 'http://hl7.org/fhir/StructureDefinition/data-absent-reason';

function isSocialInsurance(coverage: FNode): boolean {
  const type = child(coverage, 'type');
  if (type === undefined) return false;
  return type.children.some((coding) => coding.name === 'coding' && child(coding, 'code')?.value === SOCIAL_INSURANCE_CODE);
}

export interface PolicyOutcome {
  added: boolean;
  protectedNodes: FNode[];
}

/** The minimal commercial Coverage added when the submission has none. */
export function policyCoverageJson(policyNumber: string, pseudonym: string): Record<string, unknown> {
  return {
    resourceType: 'Coverage',
    id: `policy-${pseudonym}`.slice(0, 64),
    identifier: [{ system: POLICY_NUMBER_SYSTEM, value: policyNumber }],
    status: 'active',
    type: { coding: [{ system: COVERAGE_TYPE_SYSTEM, code: 'commercial-health-insurance' }] },
    beneficiary: { reference: `Patient/${pseudonym}` },
    // Coverage.payor is required; the gateway does not hold the insurer's Organization resource.
    payor: [{ extension: [{ url: DATA_ABSENT, valueCode: 'unknown' }] }],
  };
}

export function setPolicyNumber(bundle: FNode, policyNumber: string, pseudonym: string): PolicyOutcome {
  const commercial = entryResources(bundle).find((resource) => resource.type === 'Coverage' && !isSocialInsurance(resource));
  if (commercial !== undefined) {
    const identifier = addElement(commercial, 'identifier');
    addElement(identifier, 'system', POLICY_NUMBER_SYSTEM);
    addElement(identifier, 'value', policyNumber);
    protect(identifier);
    return { added: false, protectedNodes: [identifier] };
  }
  const coverage = policyCoverageJson(policyNumber, pseudonym);
  const entry = addElement(bundle, 'entry');
  entry.children.push(resourceFromJson(coverage, { unknownElements: 0 }, entry, childInfo('Bundle.entry', 'resource')));
  protect(entry);
  return { added: true, protectedNodes: [entry] };
}
