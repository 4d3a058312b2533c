/**
 * A compiled form of a profile's rules for one resource type: instead of running every rule's selector
 * over the resource and then processing what it selected (the anonymizer's algorithm, in run.ts), one
 * walk of the resource decides each node's rule from its path.
 *
 * Why it is the same: a node is processed by the first rule (in profile order) that selects the node
 * or one of its ancestors — a rule processes what it selects with its whole subtree, and skips what an
 * earlier rule already processed. Whether a rule's chain of steps (member names, nodesByType,
 * nodesByName, where(child = 'literal')) selects a node depends only on the path from the resource to
 * the node, so the walk carries, per node, the set of positions every rule's chain has reached (a small
 * automaton whose states and transitions are cached per profile). `where` reads a child's value; the
 * plan reads it as submitted, so it is used only when no earlier rule can change that child first.
 *
 * Profiles that use FHIRPath, substitute (which restructures) or perturb (which marks subtrees) for a
 * resource type, or steps that reach into nested resources, keep the general algorithm for that type.
 * The conformance suite and a differential test run both and compare.
 */
import type { ChildInfo, ChildTable } from './model.js';
import { childInfo, childOf, isResourceType, RESOURCE_ELEMENT_NAMES } from './model.js';
import type { FNode } from './node.js';
import type { Step } from './selector.js';
import type { CompiledRule } from './types.js';

interface PlanStep {
  kind: 'member' | 'byType' | 'byName' | 'where';
  /** member/byName: the name; byType: the type; where: the child's name. */
  key: string;
  /** byType/byName: whether the node the step starts from counts too (chains: yes; index rules: no). */
  self: boolean;
  literal: string;
}

interface PlanRule {
  rule: CompiledRule;
  steps: PlanStep[];
}

// A position: rule slot, step index, and whether it was reached here (arrived) or inherited from an
// ancestor by a nodesByType/nodesByName step (pending). Encoded as one integer.
const encode = (slot: number, step: number, pending: boolean) => slot * 512 + step * 2 + (pending ? 1 : 0);
const slotOf = (code: number) => Math.floor(code / 512);
const stepOf = (code: number) => Math.floor((code % 512) / 2);
const isPending = (code: number) => code % 2 === 1;

/** A child element (by JSON key) of an object in some state: its model entry and its state, before `where`. */
export interface PlanEdge {
  /** undefined: R4 has no such element. */
  readonly info: ChildInfo | undefined;
  readonly state: PlanState | undefined;
}

export class PlanState {
  /** The first rule (slot) that selects a node in this state, or -1. */
  readonly decision: number;
  /** Arrived positions at `where` steps, resolved per node by `resolve`. */
  readonly wheres: readonly number[];
  readonly next = new Map<ChildInfo, PlanState>();
  readonly resolved = new Map<number, PlanState>();
  /** Per table of children (one per type path), the edges by JSON key (`ResourcePlan.edge`). */
  readonly edges = new Map<ChildTable, Map<string, PlanEdge>>();
  constructor(
    readonly codes: readonly number[],
    decision: number,
    wheres: number[],
  ) {
    this.decision = decision;
    this.wheres = wheres;
  }
}

export class ResourcePlan {
  private readonly states = new Map<string, PlanState>();
  readonly start: PlanState;

  constructor(
    readonly rules: readonly PlanRule[],
    resourceType: string,
  ) {
    const initial = rules.map((_, slot) => encode(slot, 0, false));
    this.start = this.close(initial, resourceType, resourceType);
  }

  /** Adds what a node's own name and type satisfy (nodesByType/nodesByName on the node itself). */
  private close(codes: readonly number[], name: string, type: string): PlanState {
    const seen = new Set<number>(codes);
    const work = [...codes];
    let decision = -1;
    const wheres: number[] = [];
    while (work.length > 0) {
      const code = work.pop()!;
      const slot = slotOf(code);
      const at = stepOf(code);
      const steps = this.rules[slot]!.steps;
      if (at === steps.length) {
        if (!isPending(code) && (decision === -1 || slot < decision)) decision = slot;
        continue;
      }
      const step = steps[at]!;
      const pending = isPending(code);
      let advance = false;
      if (step.kind === 'byType') advance = (pending || step.self) && type === step.key;
      else if (step.kind === 'byName') advance = (pending || step.self) && name === step.key;
      else if (step.kind === 'where' && !pending) wheres.push(code);
      if (advance) {
        const next = encode(slot, at + 1, false);
        if (!seen.has(next)) {
          seen.add(next);
          work.push(next);
        }
      }
    }
    const sorted = [...seen].sort((a, b) => a - b);
    const key = `${sorted.join(',')}|${decision}`;
    let state = this.states.get(key);
    if (state === undefined) {
      state = new PlanState(sorted, decision, wheres.sort((a, b) => a - b));
      this.states.set(key, state);
    }
    return state;
  }

  /** The edges of an object in `state` whose children are described by `table`. */
  edgesOf(state: PlanState, table: ChildTable): Map<string, PlanEdge> {
    let edges = state.edges.get(table);
    if (edges === undefined) {
      edges = new Map();
      state.edges.set(table, edges);
    }
    return edges;
  }

  /** The edge for JSON key `key` (model lookup and state transition at once), cached in `edges`. */
  edge(edges: Map<string, PlanEdge>, state: PlanState, table: ChildTable, typePath: string, key: string): PlanEdge {
    let edge = edges.get(key);
    if (edge === undefined) {
      const info = childOf(table, typePath, key);
      edge = { info, state: info === undefined || info.resource ? undefined : this.child(state, info) };
      edges.set(key, edge);
    }
    return edge;
  }

  /** The state of a (non-resource) child with `info`, before any `where` is resolved. */
  child(parent: PlanState, info: ChildInfo): PlanState {
    let state = parent.next.get(info);
    if (state !== undefined) return state;
    const codes: number[] = [];
    for (const code of parent.codes) {
      const slot = slotOf(code);
      const at = stepOf(code);
      const step = this.rules[slot]!.steps[at];
      if (step === undefined) continue;
      if (step.kind === 'member') {
        if (!isPending(code) && step.key === info.name) codes.push(encode(slot, at + 1, false));
      } else if (step.kind === 'byType' || step.kind === 'byName') {
        codes.push(encode(slot, at, true));
      }
    }
    state = this.close(codes, info.name, info.type);
    parent.next.set(info, state);
    return state;
  }

  /** Resolves the `where` steps a state reached at `node`, from the node's children as submitted. */
  resolve(state: PlanState, node: FNode): PlanState {
    return this.resolveWith(state, node.name, node.type, (key, literal) => {
      let count = 0;
      let equal = false;
      for (const child of node.children) {
        if (child.name !== key) continue;
        count++;
        equal = child.value === literal;
      }
      return count === 1 && equal;
    });
  }

  /**
   * `resolve` for a node known by its name and type, whose children are read through `holds(key,
   * literal)`: whether it has exactly one child named `key` and that child's value is `literal`.
   */
  resolveWith(state: PlanState, name: string, type: string, holds: (key: string, literal: string) => boolean): PlanState {
    let current = state;
    for (let guard = 0; current.wheres.length > 0 && guard < 8; guard++) {
      let mask = 0;
      current.wheres.forEach((code, bit) => {
        const step = this.rules[slotOf(code)]!.steps[stepOf(code)]!;
        if (holds(step.key, step.literal)) mask |= 1 << bit;
      });
      let next = current.resolved.get(mask);
      if (next === undefined) {
        const codes = current.codes.filter((code) => !current.wheres.includes(code));
        current.wheres.forEach((code, bit) => {
          if ((mask & (1 << bit)) !== 0) codes.push(encode(slotOf(code), stepOf(code) + 1, false));
        });
        next = this.close(codes, name, type);
        current.resolved.set(mask, next);
      }
      current = next;
    }
    return current;
  }

  /** The `where` child names any rule of this plan reads. */
  whereKeys(): string[] {
    return this.rules.flatMap((rule) => rule.steps.filter((step) => step.kind === 'where').map((step) => step.key));
  }
}

function planSteps(rule: CompiledRule): PlanStep[] | undefined {
  const selector = rule.selector;
  const of = (step: Step, self: boolean): PlanStep => {
    switch (step.kind) {
      case 'member':
        return { kind: 'member', key: step.name, self, literal: '' };
      case 'byType':
        return { kind: 'byType', key: step.type, self, literal: '' };
      case 'byName':
        return { kind: 'byName', key: step.name, self, literal: '' };
      case 'whereEquals':
        return { kind: 'where', key: step.child, self, literal: step.literal };
    }
  };
  switch (selector.kind) {
    case 'self':
      return [];
    case 'index': {
      const first: PlanStep = { kind: selector.by === 'type' ? 'byType' : 'byName', key: selector.key, self: false, literal: '' };
      return selector.child === undefined ? [first] : [first, { kind: 'member', key: selector.child, self: true, literal: '' }];
    }
    case 'steps':
      return selector.steps.map((step) => of(step, true));
    case 'fhirpath':
      return undefined;
  }
}

/**
 * Steps that could select a nested resource (or enter one) are left to the general algorithm. The chain
 * is typed as far as the model allows (`Procedure.outcome` is a CodeableConcept, `Bundle.entry.response.
 * outcome` a resource); where the type is unknown, a name that can hold a resource counts as one.
 */
function leavesResource(steps: readonly PlanStep[], resourceType: string): boolean {
  let typePath: string | undefined = resourceType;
  for (const step of steps) {
    switch (step.kind) {
      case 'member': {
        const info: ChildInfo | undefined = typePath === undefined ? undefined : childInfo(typePath, step.key);
        if (info === undefined ? RESOURCE_ELEMENT_NAMES.has(step.key) : info.resource) return true;
        typePath = info?.typePath;
        break;
      }
      case 'byName':
        if (RESOURCE_ELEMENT_NAMES.has(step.key)) return true;
        typePath = undefined;
        break;
      case 'byType':
        if (isResourceType(step.key) || step.key === 'Resource' || step.key === 'DomainResource') return true;
        typePath = step.key;
        break;
      case 'where':
        break;
    }
  }
  return false;
}

/**
 * Whether rule `earlier` could select, as its final step, the child `name` (of type `childType`) of a
 * node of type `parentType` — that is, change the value a later `where` reads.
 */
function couldSelectChild(earlier: readonly PlanStep[], parentType: string | undefined, name: string, childType: string | undefined): boolean {
  const last = earlier[earlier.length - 1];
  if (last === undefined) return false; // selects the resource itself: an ancestor, decided before the where matters
  const before = earlier[earlier.length - 2];
  switch (last.kind) {
    case 'member':
      if (last.key !== name) return false;
      return !(before?.kind === 'byType' && parentType !== undefined && before.key !== parentType);
    case 'byName':
      return last.key === name;
    case 'byType':
      return childType === undefined || last.key === childType;
    case 'where':
      return false; // selects the node the where is on, not its child
  }
}

/** The plan for a resource type's rules, or undefined if they need the general algorithm. */
export function planFor(rules: readonly CompiledRule[], resourceType: string): ResourcePlan | undefined {
  const planRules: PlanRule[] = [];
  for (const rule of rules) {
    if (rule.method === 'substitute' || rule.method === 'perturb') return undefined;
    const steps = planSteps(rule);
    if (steps === undefined || leavesResource(steps, resourceType)) return undefined;
    planRules.push({ rule, steps });
  }
  // A where reads a child's value as submitted: only if no earlier rule can change that child first.
  for (let slot = 0; slot < planRules.length; slot++) {
    const steps = planRules[slot]!.steps;
    steps.forEach((step, at) => {
      if (step.kind !== 'where') return;
      const before = steps[at - 1];
      const parentType = before?.kind === 'byType' ? before.key : at === 0 ? resourceType : undefined;
      const childType = parentType === undefined ? undefined : childInfo(parentType, step.key)?.type;
      for (let earlier = 0; earlier < slot; earlier++) {
        if (couldSelectChild(planRules[earlier]!.steps, parentType, step.key, childType)) throw NOT_PLANNABLE;
      }
    });
  }
  return new ResourcePlan(planRules, resourceType);
}

const NOT_PLANNABLE = new Error('not plannable');

/** `planFor`, with the where check's refusal turned into "use the general algorithm". */
export function tryPlan(rules: readonly CompiledRule[], resourceType: string): ResourcePlan | undefined {
  try {
    return planFor(rules, resourceType);
  } catch (error) {
    if (error === NOT_PLANNABLE) return undefined;
    throw error;
  }
}
