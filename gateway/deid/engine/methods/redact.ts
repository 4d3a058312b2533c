/**
 * redact: the value goes. With the partial options, dates keep their year (not over 89), ages over 89 go,
 * and postal codes keep their first three digits (all digits zeroed in restricted areas).
 */
import { redactDate } from '../dates.js';
import type { FNode } from '../node.js';
import { Op, type MethodFn, type RunParameters } from '../types.js';

const AGE_THRESHOLD = 89;

function isEmpty(node: FNode): boolean {
  return node.value === null || node.value === '';
}

export function redactNode(node: FNode, params: RunParameters): number {
  if (isEmpty(node)) return 0;
  const value = node.value!;
  switch (node.type) {
    case 'date':
      node.value = redactDate(String(value), 'date', params.enablePartialDatesForRedact, params.today);
      return Op.Redact;
    case 'dateTime':
    case 'instant':
      node.value = redactDate(String(value), 'dateTime', params.enablePartialDatesForRedact, params.today);
      return Op.Redact;
  }
  if (node.type === 'decimal' && node.parent?.type === 'Age') {
    if (!params.enablePartialAgesForRedact || Number(value) > AGE_THRESHOLD) node.value = null;
    return Op.Redact;
  }
  if (node.name === 'postalCode') return redactPostalCode(node, String(value), params);
  node.value = null;
  return Op.Redact;
}

function redactPostalCode(node: FNode, value: string, params: RunParameters): number {
  if (!params.enablePartialZipCodesForRedact) {
    node.value = null;
    return Op.Redact;
  }
  if (params.restrictedZipCodeTabulationAreas.some((prefix) => value.startsWith(prefix))) {
    node.value = value.replace(/\d/g, '0');
  } else if (value.length >= 3) {
    node.value = value.slice(0, 3) + value.slice(3).replace(/\d/g, '0');
  }
  return Op.Abstract;
}

export const redact: MethodFn = (node, _rule, state) => redactNode(node, state.params);
