/** Small helpers over the element tree for the gateway's own steps (the engine has its own). */
import { childInfo } from './engine/model.js';
import { makeNode, type FNode, type Primitive } from './engine/node.js';

export function child(node: FNode, name: string): FNode | undefined {
  for (const c of node.children) if (c.name === name) return c;
  return undefined;
}

export function stringValue(node: FNode | undefined): string | undefined {
  return typeof node?.value === 'string' ? node.value : undefined;
}

export function removeChildren(node: FNode, names: ReadonlySet<string>): number {
  const before = node.children.length;
  node.children = node.children.filter((c) => !names.has(c.name));
  return before - node.children.length;
}

/**
 * Adds an element (by its JSON name) under `parent`, typed from the R4 model: after its namesakes if
 * there are any (the tree keeps same-name children together), else at the end.
 */
export function addElement(parent: FNode, key: string, value: Primitive | null = null): FNode {
  const info = childInfo(parent.typePath, key);
  if (info === undefined) throw new TypeError(`${parent.typePath} has no element ${key}`);
  const node = makeNode(info, info.type, info.typePath, value, parent, false);
  let at = parent.children.length;
  for (let i = parent.children.length - 1; i >= 0; i--) {
    if (parent.children[i]!.name === info.name) {
      at = i + 1;
      break;
    }
  }
  parent.children.splice(at, 0, node);
  return node;
}

/** Marks a subtree as processed, so that no profile rule touches it (the engine's first-match-wins). */
export function protect(node: FNode): void {
  node.visited = true;
  for (const c of node.children) protect(c);
}

/** The resources of a Bundle's entries (entries without one are skipped). */
export function entryResources(bundle: FNode): FNode[] {
  const out: FNode[] = [];
  for (const entry of bundle.children) {
    if (entry.name !== 'entry') continue;
    for (const c of entry.children) if (c.resource) out.push(c);
  }
  return out;
}
