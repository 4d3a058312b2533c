/**
 * substitute: the node takes the configured value (a primitive, or an element given as JSON). Parts of
 * the node that earlier rules already processed are kept as those rules left them; everything else is
 * replaced or removed. The whole substituted fragment then counts as processed.
 */
import { DeidProcessingError } from '../errors.js';
import { cloneInto, elementLike, locationOf, makeNode, regroup, type FNode, type Primitive } from '../node.js';
import { Op, type MethodFn } from '../types.js';

const NUMERIC = new Set(['decimal', 'integer', 'positiveInt', 'unsignedInt']);

function primitiveFor(node: FNode, replaceWith: unknown): Primitive | null {
  if (replaceWith === null || replaceWith === undefined) return null;
  if (NUMERIC.has(node.type) && typeof replaceWith !== 'boolean' && Number.isFinite(Number(replaceWith))) return Number(replaceWith);
  if (node.type === 'boolean' && (replaceWith === true || replaceWith === false)) return replaceWith;
  return typeof replaceWith === 'object' ? JSON.stringify(replaceWith) : String(replaceWith);
}

function replacementFor(node: FNode, replaceWith: unknown): FNode {
  if (node.info.primitive) return elementLike(node, null, primitiveFor(node, replaceWith), { unknownElements: 0 });
  const json = typeof replaceWith === 'string' ? (JSON.parse(replaceWith) as unknown) : (replaceWith ?? {});
  if (typeof json !== 'object' || json === null || Array.isArray(json)) {
    throw new DeidProcessingError(`substitute at ${locationOf(node)}: replaceWith must be an object for a ${node.type}`);
  }
  return elementLike(node, json as Record<string, unknown>, null, { unknownElements: 0 });
}

/** Nodes that earlier rules touched, and their ancestors up to `node`: these must survive. */
function collectKeep(node: FNode, keep: Set<FNode>): boolean {
  let shouldKeep = false;
  for (const child of node.children) shouldKeep = collectKeep(child, keep) || shouldKeep;
  if (shouldKeep || node.visited) {
    keep.add(node);
    return true;
  }
  return false;
}

/** The anonymizer's dummy: a node without value or children, for parts that must survive empty. */
const EMPTY: FNode = makeNode(
  { name: '', jsonKey: '', extKey: '', type: 'string', typePath: 'string', repeating: false, choice: false, primitive: true, resource: false, table: undefined },
  'string', 'string', null, null, false,
);

function remove(parent: FNode, child: FNode): void {
  const at = parent.children.indexOf(child);
  if (at >= 0) parent.children.splice(at, 1);
}

function substituteNode(node: FNode, replacement: FNode, keep: ReadonlySet<FNode>): void {
  if (node.visited) return;
  const names = [...new Set(replacement.children.map((child) => child.name))];
  for (const name of names) {
    const children = node.children.filter((child) => child.name === name);
    const targets = replacement.children.filter((child) => child.name === name);
    let i = 0;
    for (const child of children) {
      if (child.visited) i++;
      else if (i < targets.length) substituteNode(child, targets[i++]!, keep);
      else if (keep.has(child)) substituteNode(child, EMPTY, keep);
      else remove(node, child);
    }
    while (i < targets.length) node.children.push(cloneInto(targets[i++]!, node));
  }
  regroup(node);
  for (const child of node.children.filter((c) => !names.includes(c.name))) {
    if (child.visited) continue;
    if (keep.has(child)) substituteNode(child, EMPTY, keep);
    else remove(node, child);
  }
  node.value = replacement.value;
}

function markVisited(node: FNode): void {
  node.visited = true;
  for (const child of node.children) markVisited(child);
}

export const substitute: MethodFn = (node, rule, _state) => {
  if (rule.settings.method !== 'substitute') return 0;
  let replacement: FNode;
  try {
    replacement = replacementFor(node, rule.settings.replaceWith);
  } catch (error) {
    if (error instanceof DeidProcessingError) throw error;
    throw new DeidProcessingError(`rule ${rule.index + 1} (${rule.path}): replaceWith is not valid for ${locationOf(node)}`);
  }
  const keep = new Set<FNode>();
  collectKeep(node, keep);
  substituteNode(node, replacement, keep);
  markVisited(node);
  return Op.Substitute;
};
