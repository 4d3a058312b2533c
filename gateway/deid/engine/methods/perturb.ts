/**
 * perturb: adds uniform noise in ±span/2 (span absolute, or proportional to the value) to a number or a
 * quantity's value, rounded to `roundTo` decimals (integers to whole numbers, staying within their type).
 */
import { randomBytes } from 'node:crypto';
import type { FNode } from '../node.js';
import { QUANTITY_TYPES } from '../model.js';
import { Op, type MethodFn } from '../types.js';

const NUMBER_TYPES = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt']);
const INTEGER_TYPES = new Set(['integer', 'positiveInt', 'unsignedInt']);

/** Uniform in [0, 1) from the system CSPRNG: noise that protects data must not be predictable. */
function uniform(): number {
  return randomBytes(6).readUIntBE(0, 6) / 2 ** 48;
}

function markVisited(node: FNode): void {
  for (const child of node.children) {
    child.visited = true;
    markVisited(child);
  }
}

export const perturb: MethodFn = (node, rule, _state) => {
  if (rule.settings.method !== 'perturb') return 0;
  const valueNode = NUMBER_TYPES.has(node.type)
    ? node
    : QUANTITY_TYPES.has(node.type)
      ? node.children.find((child) => child.name === 'value')
      : undefined;
  if (valueNode === undefined || valueNode.value === null || (valueNode !== node && valueNode.visited)) return 0;
  const original = Number(valueNode.value);
  if (!Number.isFinite(original)) return 0;
  const { span, proportional } = rule.settings;
  const roundTo = INTEGER_TYPES.has(valueNode.type) ? 0 : rule.settings.roundTo;
  const width = proportional ? Math.abs(original) * span : span;
  const noisy = original + (uniform() - 0.5) * width;
  let value = Number(noisy.toFixed(roundTo));
  if (valueNode.type === 'positiveInt' && value <= 0) value = 1;
  if (valueNode.type === 'unsignedInt' && value < 0) value = 0;
  valueNode.value = value;
  markVisited(node);
  return Op.Perturb;
};
