/** Tree walks used by the FHIRPath functions `nodesByType`/`nodesByName`. */
import type { FNode } from './node.js';

/** Descendants matching `match`, pre-order, not entering nested resources (contained, Bundle entries). */
export function descendants(node: FNode, out: FNode[], match: (node: FNode) => boolean): void {
  for (const child of node.children) {
    if (child.resource) continue;
    if (match(child)) out.push(child);
    if (child.children.length > 0) descendants(child, out, match);
  }
}

/** The position of `node` among its parent's children of the same name (FHIRPath's array index). */
export function indexAmongNamesakes(node: FNode): number {
  const parent = node.parent;
  if (parent === null) return 0;
  let index = 0;
  for (const sibling of parent.children) {
    if (sibling === node) return index;
    if (sibling.name === node.name) index++;
  }
  return -1;
}
