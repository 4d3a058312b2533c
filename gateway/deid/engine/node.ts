/**
 * The element tree the rules operate on — the same shape as the Firely `ElementNode` that Microsoft's
 * anonymizer mutates: every element is a node with a name, an instance type, an optional primitive value
 * and children. A primitive's `_name` extensions become the node's children. Redaction sets `value` to
 * null; empty nodes are pruned when the tree is written back to JSON.
 */
import { InvalidInput } from '../../errors.js';
import { childInfo, choiceSuffix, isResourceType, type ChildInfo } from './model.js';

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
}

export interface ParseStats {
  /** Elements that R4 does not define; they are dropped (minimum necessary), counted, never echoed. */
  unknownElements: number;
}

const ROOT_INFO: ChildInfo = {
  name: '', type: 'Resource', typePath: 'Resource', repeating: false, choice: false, primitive: false, resource: true,
};

type Json = Record<string, unknown>;

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

/** A location for error messages: element names and indexes only, never values. */
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
  const node: FNode = {
    name: info.name, type: resourceType, typePath: resourceType, info, value: null, children: [], parent, resource: true, visited: false,
  };
  fillChildren(node, json as Json, stats);
  return node;
}

/** A detached element of the same kind as `like`, built from JSON (a substitute rule's `replaceWith`). */
export function elementLike(like: FNode, json: Json | null, value: Primitive | null, stats: ParseStats): FNode {
  const node: FNode = {
    name: like.name, type: like.type, typePath: like.typePath, info: like.info, value, children: [], parent: null,
    resource: like.resource, visited: false,
  };
  if (json !== null) fillChildren(node, json, stats);
  return node;
}

/** A deep copy of a detached element, attached under `parent`. */
export function cloneInto(source: FNode, parent: FNode): FNode {
  const copy: FNode = { ...source, parent, children: [], visited: false };
  copy.children = source.children.map((child) => cloneInto(child, copy));
  return copy;
}

function fillChildren(node: FNode, json: Json, stats: ParseStats): void {
  for (const key of Object.keys(json)) {
    if (key === 'resourceType' && node.resource) continue;
    let base = key;
    if (key.charCodeAt(0) === 95 /* _ */) {
      base = key.slice(1);
      if (Object.hasOwn(json, base)) continue; // handled together with the value
    }
    const info = childInfo(node.typePath, base);
    if (info === undefined) {
      stats.unknownElements++;
      continue;
    }
    if (info.primitive) addPrimitives(node, info, json[base], json[`_${base}`], stats);
    else addComplex(node, info, json[base], stats);
  }
}

function items(value: unknown): unknown[] {
  return Array.isArray(value) ? value : value === undefined || value === null ? [] : [value];
}

function addPrimitives(parent: FNode, info: ChildInfo, values: unknown, extensions: unknown, stats: ParseStats): void {
  const valueList = items(values);
  const extensionList = items(extensions);
  const count = Math.max(valueList.length, extensionList.length);
  for (let i = 0; i < count; i++) {
    const value = valueList[i] ?? null;
    const extension = extensionList[i] ?? null;
    if (value === null && extension === null) continue;
    if (value !== null && typeof value !== 'string' && typeof value !== 'number' && typeof value !== 'boolean') {
      throw new InvalidInput(`${locationOf(parent)}.${info.name} must be a primitive value`);
    }
    if (extension !== null && !isObject(extension)) {
      throw new InvalidInput(`${locationOf(parent)}._${info.name} must be an object`);
    }
    const node: FNode = {
      name: info.name, type: info.type, typePath: info.typePath, info, value, children: [], parent, resource: false, visited: false,
    };
    if (extension !== null) fillChildren(node, extension, stats);
    parent.children.push(node);
  }
}

function addComplex(parent: FNode, info: ChildInfo, value: unknown, stats: ParseStats): void {
  for (const item of items(value)) {
    if (item === null) continue;
    if (info.resource) {
      parent.children.push(resourceFromJson(item, stats, parent, info));
      continue;
    }
    if (!isObject(item)) throw new InvalidInput(`${locationOf(parent)}.${info.name} must be an object`);
    const node: FNode = {
      name: info.name, type: info.type, typePath: info.typePath, info, value: null, children: [], parent, resource: false, visited: false,
    };
    fillChildren(node, item, stats);
    parent.children.push(node);
  }
}

/** The JSON property name of a node: `deceasedBoolean` for the choice element `deceased` of type boolean. */
export function jsonKey(node: FNode): string {
  return node.info.choice ? node.name + choiceSuffix(node.type) : node.name;
}

/**
 * Writes a node back as FHIR JSON. Empty elements are written as they stand (FHIRPath snapshots need
 * array positions to match the tree); `pruneEmpty` first for the final output.
 */
export function toJson(node: FNode): Json {
  const out: Json = {};
  if (node.resource) out['resourceType'] = node.type;
  const groups = new Map<string, FNode[]>();
  for (const child of node.children) {
    const key = jsonKey(child);
    const group = groups.get(key);
    if (group === undefined) groups.set(key, [child]);
    else group.push(child);
  }
  for (const [key, group] of groups) {
    const first = group[0]!;
    const repeating = first.info.repeating || group.length > 1;
    if (first.info.primitive) {
      let anyValue = false;
      let anyExtension = false;
      const values: (Primitive | null)[] = [];
      const extensions: (Json | null)[] = [];
      for (const child of group) {
        values.push(child.value);
        if (child.value !== null) anyValue = true;
        const extension = child.children.length > 0 ? toJson(child) : null;
        extensions.push(extension);
        if (extension !== null) anyExtension = true;
      }
      if (anyValue) out[key] = repeating ? values : values[0];
      if (anyExtension) out[`_${key}`] = repeating ? extensions : extensions[0];
    } else {
      const objects = group.map((child) => toJson(child));
      out[key] = repeating ? objects : objects[0];
    }
  }
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

export function isPrimitiveNode(node: FNode): boolean {
  return node.info.primitive;
}
