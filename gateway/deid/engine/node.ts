/**
 * The element tree the rules operate on — the same shape as the Firely `ElementNode` that Microsoft's
 * anonymizer mutates: every element is a node with a name, an instance type, an optional primitive value
 * and children. A primitive's `_name` extensions become the node's children. Redaction sets `value` to
 * null; empty nodes are pruned before the tree is written back to JSON. This is the hot path of
 * de-identification, so parsing and writing avoid per-node closures and temporary arrays.
 */
import { InvalidInput } from '../../errors.js';
import { childInfo, isResourceType, type ChildInfo } from './model.js';
import { securityLabelsJson } from './labels.js';

export type Primitive = string | number | boolean;

export interface FNode {
  name: string;
  type: string;
  /** Where this node's children are described in the model (type name or backbone path). */
  typePath: string;
  info: ChildInfo;
  value: Primitive | null;
  children: FNode[];
  parent: FNode | null;
  resource: boolean;
  /** Set once a rule has processed the node: the first rule that reaches a node wins. */
  visited: boolean;
  /** For resources: what was done to it (and to the resources inside it), written as `meta.security`. */
  ops: number;
}

export interface ParseStats {
  /** Elements that R4 does not define; they are dropped (minimum necessary), counted, never echoed. */
  unknownElements: number;
  /** Nodes of these types are also collected into `collected` while parsing (saves a walk). */
  collectTypes?: ReadonlySet<string>;
  collected?: FNode[];
}

const ROOT_INFO: ChildInfo = {
  name: '', jsonKey: '', extKey: '', type: 'Resource', typePath: 'Resource', repeating: false, choice: false, primitive: false,
  resource: true, table: undefined,
};

type Json = Record<string, unknown>;

export function makeNode(info: ChildInfo, type: string, typePath: string, value: Primitive | null, parent: FNode | null, resource: boolean): FNode {
  return { name: info.name, type, typePath, info, value, children: [], parent, resource, visited: false, ops: 0 };
}

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A location for error messages: element names only, never values. */
export function locationOf(node: FNode | null, tail = ''): string {
  const parts: string[] = [];
  for (let current = node; current !== null; current = current.parent) {
    parts.push(current.parent === null || current.resource ? current.type : current.name);
    if (current.resource && current.parent !== null) parts.push(current.name);
  }
  return parts.reverse().join('.') + tail;
}

export function resourceFromJson(json: unknown, stats: ParseStats, parent: FNode | null = null, info: ChildInfo = ROOT_INFO): FNode {
  const resourceType = isObject(json) ? json['resourceType'] : undefined;
  if (typeof resourceType !== 'string' || !isResourceType(resourceType)) {
    throw new InvalidInput(`${locationOf(parent, parent === null ? '' : `.${info.name}`) || 'input'} is not a FHIR R4 resource`);
  }
  const node = makeNode(info, resourceType, resourceType, null, parent, true);
  fillChildren(node, json as Json, stats);
  return node;
}

/** A detached element of the same kind as `like`, built from JSON (a substitute rule's `replaceWith`). */
export function elementLike(like: FNode, json: Json | null, value: Primitive | null, stats: ParseStats): FNode {
  const node = makeNode(like.info, like.type, like.typePath, value, null, like.resource);
  if (json !== null) fillChildren(node, json, stats);
  return node;
}

/** A deep copy of a detached element, attached under `parent`. */
export function cloneInto(source: FNode, parent: FNode): FNode {
  const copy: FNode = { ...source, parent, children: [], visited: false };
  for (const child of source.children) copy.children.push(cloneInto(child, copy));
  return copy;
}

function fillChildren(node: FNode, json: Json, stats: ParseStats): void {
  const typePath = node.typePath;
  for (const key in json) {
    if (key.charCodeAt(0) === 95 /* _ */) {
      // Extensions of a primitive without a value; with a value they are read together with it.
      const base = key.slice(1);
      if (json[base] !== undefined && json[base] !== null) continue;
      const info = childInfo(typePath, base);
      if (info === undefined || !info.primitive) {
        stats.unknownElements++;
        continue;
      }
      addPrimitives(node, info, undefined, json[key], stats);
      continue;
    }
    if (key === 'resourceType' && node.resource) continue;
    const info = childInfo(typePath, key);
    if (info === undefined) {
      stats.unknownElements++;
      continue;
    }
    const value = json[key];
    if (info.primitive) addPrimitives(node, info, value, json[info.extKey], stats);
    else addComplex(node, info, value, stats);
  }
}

function addPrimitive(parent: FNode, info: ChildInfo, value: unknown, extension: unknown, stats: ParseStats): void {
  if (value === undefined) value = null;
  if (extension === undefined) extension = null;
  if (value === null && extension === null) return;
  if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
    throw new InvalidInput(`${locationOf(parent)}.${info.jsonKey} must be a primitive value`);
  }
  if (extension !== null && !isObject(extension)) throw new InvalidInput(`${locationOf(parent)}.${info.extKey} must be an object`);
  const node = makeNode(info, info.type, info.typePath, value as Primitive | null, parent, false);
  if (extension !== null) fillChildren(node, extension as Json, stats);
  parent.children.push(node);
}

function addPrimitives(parent: FNode, info: ChildInfo, values: unknown, extensions: unknown, stats: ParseStats): void {
  const valueArray = Array.isArray(values);
  const extensionArray = Array.isArray(extensions);
  if (!valueArray && !extensionArray) {
    addPrimitive(parent, info, values, extensions, stats);
    return;
  }
  const count = Math.max(valueArray ? (values as unknown[]).length : 1, extensionArray ? (extensions as unknown[]).length : 1);
  for (let i = 0; i < count; i++) {
    const value = valueArray ? (values as unknown[])[i] : i === 0 ? values : undefined;
    const extension = extensionArray ? (extensions as unknown[])[i] : i === 0 ? extensions : undefined;
    addPrimitive(parent, info, value, extension, stats);
  }
}

function addOne(parent: FNode, info: ChildInfo, item: unknown, stats: ParseStats): void {
  if (item === null || item === undefined) return;
  if (info.resource) {
    parent.children.push(resourceFromJson(item, stats, parent, info));
    return;
  }
  if (!isObject(item)) throw new InvalidInput(`${locationOf(parent)}.${info.jsonKey} must be an object`);
  const node = makeNode(info, info.type, info.typePath, null, parent, false);
  fillChildren(node, item, stats);
  parent.children.push(node);
  if (stats.collectTypes?.has(info.type) === true) stats.collected?.push(node);
}

function addComplex(parent: FNode, info: ChildInfo, value: unknown, stats: ParseStats): void {
  if (Array.isArray(value)) {
    for (const item of value) addOne(parent, info, item, stats);
  } else {
    addOne(parent, info, value, stats);
  }
}

/** The JSON property name of a node: `deceasedBoolean` for the choice element `deceased` of type boolean. */
export function jsonKey(node: FNode): string {
  return node.info.jsonKey;
}

/** Writes the children [from, to) that share one JSON key (the tree keeps same-name children together). */
function writeGroup(out: Json, key: string, children: FNode[], from: number, to: number): void {
  const first = children[from]!;
  const repeating = first.info.repeating || to - from > 1;
  if (!first.info.primitive) {
    if (!repeating) {
      out[key] = toJson(first);
      return;
    }
    const list: Json[] = [];
    for (let i = from; i < to; i++) list.push(toJson(children[i]!));
    out[key] = list;
    return;
  }
  const extKey = first.info.extKey;
  if (!repeating) {
    if (first.value !== null) out[key] = first.value;
    if (first.children.length > 0) out[extKey] = toJson(first);
    return;
  }
  // Primitive arrays: values and `_` extensions stay index-aligned, with nulls where one side is absent.
  const values: (Primitive | null)[] = [];
  let extensions: (Json | null)[] | undefined;
  let anyValue = false;
  for (let i = from; i < to; i++) {
    const child = children[i]!;
    values.push(child.value);
    if (child.value !== null) anyValue = true;
    if (child.children.length > 0) {
      extensions ??= new Array<Json | null>(to - from).fill(null);
      extensions[i - from] = toJson(child);
    }
  }
  if (anyValue) out[key] = values;
  if (extensions !== undefined) out[extKey] = extensions;
}

/** Puts children with the same name next to each other (first occurrence order), as JSON needs them. */
export function regroup(node: FNode): void {
  const order = new Map<string, FNode[]>();
  for (const child of node.children) {
    const group = order.get(child.name);
    if (group === undefined) order.set(child.name, [child]);
    else group.push(child);
  }
  if (order.size === node.children.length) return;
  node.children = [...order.values()].flat();
}

/**
 * Writes a node back as FHIR JSON, in the order of its children. A resource's `ops` become
 * `meta.security` labels (placed after `id`).
 */
export function toJson(node: FNode): Json {
  const out: Json = {};
  if (node.resource) out['resourceType'] = node.type;
  const children = node.children;
  let labelsPending = node.resource && node.ops !== 0;
  // With a `meta` of its own anywhere among the children, the labels join it where it stands; only
  // without one are they written up front (after `id`).
  const ownMeta = labelsPending && children.some((child) => jsonKey(child) === 'meta');
  let start = 0;
  while (start < children.length) {
    const key = jsonKey(children[start]!);
    let end = start + 1;
    while (end < children.length && jsonKey(children[end]!) === key) end++;
    if (out[key] !== undefined) {
      // A name split by other elements (a rule added one at the end): group, then write again.
      regroup(node);
      return toJson(node);
    }
    if (labelsPending && !ownMeta && key !== 'id') {
      out['meta'] = { security: securityLabelsJson(node.ops, []) };
      labelsPending = false;
    }
    writeGroup(out, key, children, start, end);
    if (labelsPending && key === 'meta') {
      const meta = out['meta'] as Json;
      const existing = Array.isArray(meta['security']) ? (meta['security'] as Json[]) : [];
      meta['security'] = securityLabelsJson(node.ops, existing);
      labelsPending = false;
    }
    start = end;
  }
  if (labelsPending) out['meta'] = { security: securityLabelsJson(node.ops, []) };
  return out;
}

/** Removes, bottom-up, every non-resource node without value and children (the anonymizer's last step). */
export function pruneEmpty(node: FNode): void {
  let write = 0;
  const children = node.children;
  for (let read = 0; read < children.length; read++) {
    const child = children[read]!;
    if (child.children.length > 0) pruneEmpty(child);
    if (child.resource || child.value !== null || child.children.length > 0) children[write++] = child;
  }
  children.length = write;
}
