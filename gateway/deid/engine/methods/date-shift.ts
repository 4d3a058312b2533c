/**
 * dateShift: full dates move by a keyed offset (−50…+50 days, the same for every date that shares the
 * key prefix, so intervals survive); dates that are partial or indicate an age over 89 are redacted.
 */
import { dateShiftOffset, shiftDate } from '../dates.js';
import type { FNode } from '../node.js';
import { Op, type MethodFn, type RunState } from '../types.js';

/** The id of the top-level resource of the run (the anonymizer's default, "resource" scope). */
function rootId(state: RunState): string {
  const id = state.root.children.find((child) => child.name === 'id');
  return id?.value === null || id?.value === undefined ? '' : String(id.value);
}

function offsetFor(state: RunState): number {
  const { dateShiftFixedOffsetInDays, dateShiftKeyPrefix, dateShiftKey } = state.params;
  if (dateShiftFixedOffsetInDays !== undefined) return dateShiftFixedOffsetInDays;
  return dateShiftOffset(dateShiftKeyPrefix !== '' ? dateShiftKeyPrefix : rootId(state), dateShiftKey);
}

export const dateShift: MethodFn = (node: FNode, _rule, state) => {
  if (node.value === null || node.value === '') return 0;
  const kind = node.type === 'date' ? 'date' : node.type === 'dateTime' || node.type === 'instant' ? 'dateTime' : undefined;
  if (kind === undefined) return 0;
  const outcome = shiftDate(String(node.value), kind, offsetFor(state), state.params.enablePartialDatesForRedact, state.params.today);
  node.value = outcome.value;
  return outcome.shifted ? Op.Perturb : Op.Redact;
};
