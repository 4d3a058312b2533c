/** Tree walks shared by the selectors and the FHIRPath functions `nodesByType`/`nodesByName`. */
import type { FNode } from './node.js';

/** The node and its descendants, not entering nested resources (contained, Bundle entries). */
export function selfAndDescendants(node: FNode, out: FNode[], match: (node: FNode) => boolean): void {
  if (match(node)) out.push(node);
  descendants(node, out, match);
}

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

/** The resource a node belongs to (itself if it is one). */
export function owningResource(node: FNode): FNode {
  let current = node;
  while (!current.resource && current.parent !== null) current = current.parent;
  return current;
}
