/**
 * Rule paths. A path is split as the anonymizer does: an optional leading resource type (`Patient.` —
 * the rule then applies only to that type, or to every type for `Resource`/`DomainResource`) and an
 * expression evaluated on each resource. Three ways to select, fastest first:
 *  - `nodesByType('T')[.child]` / `nodesByName('n')[.child]` alone: a per-resource index built once;
 *  - a chain of member names, `nodesByType`, `nodesByName` and `where(child = 'literal')`: walked on the
 *    tree directly, no FHIRPath engine involved;
 *  - anything else: FHIRPath (see fhirpath-bridge.ts).
 */
import { compileQuery, type NodeQuery } from './fhirpath-bridge.js';
import type { FNode } from './node.js';

const TYPE_RULE = /^nodesByType\(['|"](?<key>[A-Za-z0-9]+)['|"]\)(\.(?<child>[A-Za-z0-9]+))?$/;
const NAME_RULE = /^nodesByName\(['|"](?<key>[A-Za-z0-9]+)['|"]\)(\.(?<child>[A-Za-z0-9]+))?$/;
const PATH = /^(?<resourceType>[A-Z][a-zA-Z]*)?(\.)?(?<expression>.*?)$/s;

export type Step =
  | { kind: 'member'; name: string }
  | { kind: 'byType'; type: string }
  | { kind: 'byName'; name: string }
  | { kind: 'whereEquals'; child: string; literal: string };

export type Selector =
  /** The resource itself (`Patient`, `Resource`). */
  | { kind: 'self' }
  /** From the index: every node of a type (or name) below the resource, then optionally a child of each. */
  | { kind: 'index'; by: 'type' | 'name'; key: string; child: string | undefined }
  | { kind: 'steps'; steps: Step[] }
  | { kind: 'fhirpath'; query: NodeQuery };

export interface ParsedPath {
  /** '' when the rule applies to every resource type. */
  resourceType: string;
  selector: Selector;
}

const IDENTIFIER = /^[A-Za-z][A-Za-z0-9_]*$/;
const FHIRPATH_WORDS = new Set(['true', 'false', 'and', 'or', 'xor', 'implies', 'div', 'mod', 'in', 'contains', 'is', 'as']);
const BY_FUNCTION = /^nodesBy(?<which>Type|Name)\((?<q>['"])(?<key>[A-Za-z0-9]+)\k<q>\)$/;
const WHERE_EQUALS = /^where\(\s*(?<child>[A-Za-z][A-Za-z0-9_]*)\s*=\s*'(?<literal>[^'\\]*)'\s*\)$/;

/** Splits `a.b(x.y).c` on the dots that are outside parentheses and quotes. */
function splitChain(expression: string): string[] | undefined {
  const parts: string[] = [];
  let depth = 0;
  let quote: string | null = null;
  let start = 0;
  for (let i = 0; i < expression.length; i++) {
    const c = expression[i]!;
    if (quote !== null) {
      if (c === '\\') i++;
      else if (c === quote) quote = null;
    } else if (c === "'" || c === '"' || c === '`') quote = c;
    else if (c === '(') depth++;
    else if (c === ')') depth--;
    else if (c === '.' && depth === 0) {
      parts.push(expression.slice(start, i));
      start = i + 1;
    }
    if (depth < 0) return undefined;
  }
  if (quote !== null || depth !== 0) return undefined;
  parts.push(expression.slice(start));
  return parts;
}

function parseStep(part: string): Step | undefined {
  const text = part.trim();
  if (IDENTIFIER.test(text) && !FHIRPATH_WORDS.has(text)) return { kind: 'member', name: text };
  const by = BY_FUNCTION.exec(text)?.groups;
  if (by !== undefined) return by['which'] === 'Type' ? { kind: 'byType', type: by['key']! } : { kind: 'byName', name: by['key']! };
  const where = WHERE_EQUALS.exec(text)?.groups;
  if (where !== undefined) return { kind: 'whereEquals', child: where['child']!, literal: where['literal']! };
  return undefined;
}

function parseSteps(expression: string): Step[] | undefined {
  const parts = splitChain(expression);
  if (parts === undefined) return undefined;
  const steps: Step[] = [];
  for (const part of parts) {
    const step = parseStep(part);
    if (step === undefined) return undefined;
    steps.push(step);
  }
  return steps;
}

/** Parses a rule path; throws (from the FHIRPath compiler) if the general form does not parse. */
export function parsePath(path: string): ParsedPath {
  const m = PATH.exec(path)?.groups ?? {};
  const resourceType = m['resourceType'] ?? '';
  let expression = m['expression'] ?? '';
  if (expression === '') expression = path;
  if (path === resourceType) return { resourceType, selector: { kind: 'self' } };
  const byType = TYPE_RULE.exec(path)?.groups;
  const index = byType ?? NAME_RULE.exec(path)?.groups;
  if (index !== undefined) {
    return { resourceType, selector: { kind: 'index', by: byType !== undefined ? 'type' : 'name', key: index['key']!, child: index['child'] } };
  }
  const steps = parseSteps(expression);
  if (steps !== undefined) return { resourceType, selector: { kind: 'steps', steps } };
  return { resourceType, selector: { kind: 'fhirpath', query: compileQuery(expression) } };
}

/**
 * Walks the steps depth first from `node`, appending matches to `out`: the same nodes, in the same order,
 * as evaluating the chain step by step as FHIRPath does, without the intermediate collections.
 */
function walkSteps(steps: readonly Step[], at: number, node: FNode, out: FNode[]): void {
  if (at === steps.length) {
    out.push(node);
    return;
  }
  const step = steps[at]!;
  switch (step.kind) {
    case 'member': {
      const children = node.children;
      for (let i = 0; i < children.length; i++) if (children[i]!.name === step.name) walkSteps(steps, at + 1, children[i]!, out);
      return;
    }
    case 'byType':
      if (node.type === step.type) walkSteps(steps, at + 1, node, out);
      descendantsByType(steps, at, node, step.type, out);
      return;
    case 'byName':
      if (node.name === step.name) walkSteps(steps, at + 1, node, out);
      descendantsByName(steps, at, node, step.name, out);
      return;
    case 'whereEquals': {
      // FHIRPath `child = 'x'`: true only for exactly one child equal to the literal.
      let count = 0;
      let equal = false;
      for (const child of node.children) {
        if (child.name !== step.child) continue;
        count++;
        equal = child.value === step.literal;
      }
      if (count === 1 && equal) walkSteps(steps, at + 1, node, out);
      return;
    }
  }
}

// Self-and-descendants without nested resources, as the anonymizer's nodesByType/nodesByName do.
function descendantsByType(steps: readonly Step[], at: number, node: FNode, type: string, out: FNode[]): void {
  for (const child of node.children) {
    if (child.resource) continue;
    if (child.type === type) walkSteps(steps, at + 1, child, out);
    if (child.children.length > 0) descendantsByType(steps, at, child, type, out);
  }
}

function descendantsByName(steps: readonly Step[], at: number, node: FNode, name: string, out: FNode[]): void {
  for (const child of node.children) {
    if (child.resource) continue;
    if (child.name === name) walkSteps(steps, at + 1, child, out);
    if (child.children.length > 0) descendantsByName(steps, at, child, name, out);
  }
}

export function runSteps(steps: readonly Step[], resource: FNode): FNode[] {
  const out: FNode[] = [];
  walkSteps(steps, 0, resource, out);
  return out;
}

/** The per-resource index of the `nodesByType`/`nodesByName` rules: only the keys the profile uses. */
export interface NodeIndex {
  byType: Map<string, FNode[]>;
  byName: Map<string, FNode[]>;
}

export function buildIndex(resource: FNode, types: ReadonlySet<string>, names: ReadonlySet<string>): NodeIndex {
  const index: NodeIndex = { byType: new Map(), byName: new Map() };
  indexChildren(resource, types, names, index);
  return index;
}

function indexChildren(node: FNode, types: ReadonlySet<string>, names: ReadonlySet<string>, index: NodeIndex): void {
  for (const child of node.children) {
    if (types.has(child.type)) push(index.byType, child.type, child);
    if (names.size > 0 && names.has(child.name)) push(index.byName, child.name, child);
    // Nested resources are indexed themselves (as the anonymizer does) but not entered.
    if (!child.resource && child.children.length > 0) indexChildren(child, types, names, index);
  }
}

function push(map: Map<string, FNode[]>, key: string, node: FNode): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [node]);
  else list.push(node);
}

const NONE: FNode[] = [];

export function select(selector: Selector, resource: FNode, index: NodeIndex | undefined): FNode[] {
  switch (selector.kind) {
    case 'self':
      return [resource];
    case 'index': {
      const nodes = (selector.by === 'type' ? index?.byType : index?.byName)?.get(selector.key) ?? NONE;
      if (selector.child === undefined) return nodes;
      const out: FNode[] = [];
      for (const node of nodes) for (const child of node.children) if (child.name === selector.child) out.push(child);
      return out;
    }
    case 'steps':
      return runSteps(selector.steps, resource);
    case 'fhirpath':
      return selector.query(resource);
  }
}
