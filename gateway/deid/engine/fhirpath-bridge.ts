/**
 * The general case of a rule path: full FHIRPath, evaluated by the `fhirpath` package on a JSON snapshot
 * of the resource as it stands (earlier rules may have changed it), with the anonymizer's extension
 * functions `nodesByType('T')` and `nodesByName('n')`. Results are mapped back to tree nodes through the
 * property name and index that `fhirpath` records on each result, so the rules mutate the tree, never
 * the snapshot. Evaluation is synchronous, so the current scope can live in a module variable.
 */
import fhirpath, { type UserInvocationTable } from 'fhirpath';
import r4 from 'fhirpath/fhir-context/r4';
import { toJson, type FNode } from './node.js';
import { descendants, indexAmongNamesakes } from './walk.js';

// The parts of fhirpath's ResourceNode that the bridge reads.
interface ResNode {
  data: unknown;
  parentResNode: ResNode | null;
  propName: string | null;
  index: number | null;
}
interface EvalContext {
  model: unknown;
}
type Json = Record<string, unknown>;

interface Scope {
  root: FNode;
  snapshot: Json;
  memo: Map<ResNode, FNode | undefined>;
}
let scope: Scope | null = null;

function isResNode(value: unknown): value is ResNode {
  return typeof value === 'object' && value !== null && 'parentResNode' in value && 'data' in value;
}

function nodeFor(res: ResNode): FNode | undefined {
  if (scope === null) return undefined;
  if (scope.memo.has(res)) return scope.memo.get(res);
  let found: FNode | undefined;
  if (res.parentResNode === null || res.parentResNode === undefined) {
    found = res.data === scope.snapshot ? scope.root : undefined;
  } else {
    const parent = nodeFor(res.parentResNode);
    if (parent !== undefined && res.propName !== null) {
      const wanted = res.index ?? 0;
      let seen = 0;
      for (const child of parent.children) {
        if (child.name !== res.propName) continue;
        if (seen++ === wanted) {
          found = child;
          break;
        }
      }
    }
  }
  scope.memo.set(res, found);
  return found;
}

/** The fhirpath ResourceNode for `target`, navigating down from `from` (whose ResourceNode is `fromRes`). */
function resNodeFor(ctx: EvalContext, from: FNode, fromRes: ResNode, target: FNode): ResNode | undefined {
  const steps: { name: string; index: number }[] = [];
  for (let current = target; current !== from; current = current.parent!) {
    if (current.parent === null) return undefined;
    steps.push({ name: current.name, index: indexAmongNamesakes(current) });
  }
  let res: ResNode | undefined = fromRes;
  for (let i = steps.length - 1; i >= 0 && res !== undefined; i--) {
    const step = steps[i]!;
    const children = fhirpath.util.makeChildResNodes(ctx, res, step.name, ctx.model) as ResNode[];
    res = children.find((child) => (child.index ?? 0) === step.index);
  }
  return res;
}

function selectBy(match: (node: FNode) => boolean) {
  return function (this: EvalContext, inputs: unknown[]): ResNode[] {
    const out: ResNode[] = [];
    for (const input of inputs) {
      if (!isResNode(input)) continue;
      const node = nodeFor(input);
      if (node === undefined) continue;
      const found: FNode[] = [];
      if (match(node)) found.push(node);
      descendants(node, found, match);
      for (const target of found) {
        const res = target === node ? input : resNodeFor(this, node, input, target);
        if (res !== undefined) out.push(res);
      }
    }
    return out;
  };
}

const userInvocationTable: UserInvocationTable = {
  nodesByType: {
    fn(this: EvalContext, inputs: unknown[], type: unknown): ResNode[] {
      return selectBy((node) => node.type === type).call(this, inputs);
    },
    arity: { 1: ['String'] as const },
    internalStructures: true,
  },
  nodesByName: {
    fn(this: EvalContext, inputs: unknown[], name: unknown): ResNode[] {
      return selectBy((node) => node.name === name).call(this, inputs);
    },
    arity: { 1: ['String'] as const },
    internalStructures: true,
  },
};

export type NodeQuery = (resource: FNode) => FNode[];

/** Compiles a FHIRPath rule expression; throws if it does not parse. */
export function compileQuery(expression: string): NodeQuery {
  const evaluate = fhirpath.compile(expression, r4, { resolveInternalTypes: false, userInvocationTable }) as (
    data: unknown,
  ) => unknown[];
  return (resource: FNode): FNode[] => {
    const snapshot = toJson(resource);
    const outer = scope;
    scope = { root: resource, snapshot, memo: new Map() };
    try {
      const out: FNode[] = [];
      for (const item of evaluate(snapshot)) {
        if (!isResNode(item)) continue;
        const node = nodeFor(item);
        if (node !== undefined) out.push(node);
      }
      return out;
    } finally {
      scope = outer;
    }
  };
}

const EXTENSION_VALUE_TYPES = new Set((r4.choiceTypePaths as unknown as Record<string, string[]>)['Extension.value'] ?? []);

export type ValueExpression = (value: string | number | boolean, type: string) => unknown[];

/**
 * Compiles a generalize case (condition or result) evaluated with `$this` = a primitive value of the given
 * FHIR type. The value travels as an Extension's `value[x]` so that fhirpath types it correctly.
 */
export function compileValueExpression(expression: string): ValueExpression {
  const evaluate = fhirpath.compile({ base: 'Extension', expression: `value.select(${expression})` }, r4) as (
    data: unknown,
  ) => unknown[];
  return (value, type) => {
    const suffix = type.charAt(0).toUpperCase() + type.slice(1);
    const key = `value${EXTENSION_VALUE_TYPES.has(suffix) ? suffix : 'String'}`;
    return evaluate({ url: 'urn:hdx:generalize', [key]: value });
  };
}

/** Whether a string parses as FHIRPath (grammar only). */
export function parsesAsFhirPath(expression: string): boolean {
  try {
    fhirpath.parse(expression);
    return true;
  } catch {
    return false;
  }
}
