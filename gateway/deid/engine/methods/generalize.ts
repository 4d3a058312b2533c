/**
 * generalize: the first case whose condition holds for the value replaces it with the case's result
 * (both FHIRPath, `$this` = the value); other values are redacted or kept as configured. Only primitives
 * can be generalized; a case that fails to evaluate is a processing error. Outcomes are remembered per
 * value for the day, since the same values (birth dates, codes) recur across records.
 */
import { DeidProcessingError } from '../errors.js';
import { locationOf, type FNode, type Primitive } from '../node.js';
import { Op, type CompiledRule, type MethodFn, type RunState } from '../types.js';

const MEMO_LIMIT = 50_000;

interface Outcome {
  matched: boolean;
  value: Primitive | null;
}

function evaluate(node: FNode, rule: CompiledRule, value: Primitive): Outcome {
  if (rule.settings.method !== 'generalize') return { matched: false, value };
  for (const [position, entry] of rule.settings.cases.entries()) {
    try {
      const condition = entry.condition(value, node.type);
      if (!(condition.length === 1 && condition[0] === true)) continue;
      const first = entry.result(value, node.type)[0];
      return { matched: true, value: typeof first === 'string' || typeof first === 'number' || typeof first === 'boolean' ? first : null };
    } catch {
      // The FHIRPath engine's message quotes the value: name the case instead.
      throw new DeidProcessingError(
        `rule ${rule.index + 1} (${rule.path}) at ${locationOf(node)}: case ${position + 1} cannot be evaluated for a ${node.type} value`,
      );
    }
  }
  return { matched: false, value };
}

// The UTC day of "today", formatted again only when the day changes (records are de-identified by the
// thousand per second; the day changes once a day).
let lastDayNumber = Number.NaN;
let lastDay = '';
function dayOf(today: Date): string {
  const dayNumber = Math.floor(today.getTime() / 86_400_000);
  if (dayNumber !== lastDayNumber) {
    lastDay = today.toISOString().slice(0, 10);
    lastDayNumber = dayNumber;
  }
  return lastDay;
}

function outcomeFor(node: FNode, rule: CompiledRule, value: Primitive, state: RunState): Outcome {
  const memo = rule.settings.method === 'generalize' ? rule.settings.memo : undefined;
  if (memo === undefined) return evaluate(node, rule, value);
  const day = dayOf(state.params.today);
  if (memo.day !== day || memo.outcomes.size > MEMO_LIMIT) {
    memo.day = day;
    memo.outcomes.clear();
  }
  const key = `${node.type}\u0000${typeof value}\u0000${String(value)}`;
  let outcome = memo.outcomes.get(key);
  if (outcome === undefined) {
    outcome = evaluate(node, rule, value);
    memo.outcomes.set(key, outcome);
  }
  return outcome;
}

export const generalize: MethodFn = (node, rule, state) => {
  if (rule.settings.method !== 'generalize') return 0;
  if (!node.info.primitive) {
    throw new DeidProcessingError(`rule ${rule.index + 1} (${rule.path}) at ${locationOf(node)}: generalize applies to primitive values only, not ${node.type}`);
  }
  if (node.value === null) return 0;
  const outcome = outcomeFor(node, rule, node.value, state);
  if (outcome.matched) node.value = outcome.value;
  else if (rule.settings.otherValues === 'redact') node.value = null;
  return Op.Generalize;
};
