/**
 * generalize: the first case whose condition holds for the value replaces it with the case's result
 * (both FHIRPath, `$this` = the value); other values are redacted or kept as configured. Only primitives
 * can be generalized; a case that fails to evaluate is a processing error.
 */
import { DeidProcessingError } from '../errors.js';
import { locationOf } from '../node.js';
import { Op, type MethodFn } from '../types.js';

export const generalize: MethodFn = (node, rule, _state) => {
  if (rule.settings.method !== 'generalize') return 0;
  const where = `rule ${rule.index + 1} (${rule.path}) at ${locationOf(node)}`;
  if (!node.info.primitive) throw new DeidProcessingError(`${where}: generalize applies to primitive values only, not ${node.type}`);
  if (node.value === null) return 0;
  const value = node.value;
  for (const [position, entry] of rule.settings.cases.entries()) {
    let result: unknown[];
    try {
      const condition = entry.condition(value, node.type);
      if (!(condition.length === 1 && condition[0] === true)) continue;
      result = entry.result(value, node.type);
    } catch {
      // The FHIRPath engine's message quotes the value: name the case instead.
      throw new DeidProcessingError(`${where}: case ${position + 1} cannot be evaluated for a ${node.type} value`);
    }
    const first = result[0];
    node.value = typeof first === 'string' || typeof first === 'number' || typeof first === 'boolean' ? first : null;
    return Op.Generalize;
  }
  if (rule.settings.otherValues === 'redact') node.value = null;
  return Op.Generalize;
};
