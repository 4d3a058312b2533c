/**
 * Runs a compiled profile over one resource tree, as the anonymizer's visitor does: each resource (the
 * top-level one, then Bundle entries and contained resources, depth first) gets the rules that apply to
 * its type, in order; every node a rule selects is processed with its whole subtree, except nodes an
 * earlier rule already processed. Resources that are not contained get `meta.security` labels for what
 * was done to them and to the resources inside them.
 */
import { randomBytes } from 'node:crypto';
import { DeidProcessingError } from './errors.js';
import { hmacSha256Hex, type HmacHex } from './hmac-sha256.js';
import { cryptoHash } from './methods/crypto-hash.js';
import { dateShift } from './methods/date-shift.js';
import { encrypt } from './methods/encrypt.js';
import { generalize } from './methods/generalize.js';
import { keep } from './methods/keep.js';
import { perturb } from './methods/perturb.js';
import { redact } from './methods/redact.js';
import { substitute } from './methods/substitute.js';
import type { FNode } from './node.js';
import type { PlanState, ResourcePlan } from './plan.js';
import { buildIndex, select } from './selector.js';
import { METHODS, type CompiledProfile, type CompiledRule, type Method, type MethodFn, type RunParameters, type RunState } from './types.js';

export const METHOD_FNS: Readonly<Record<Method, MethodFn>> = {
  keep, redact, dateShift, cryptoHash, encrypt, substitute, perturb, generalize,
};

export interface RunKeys {
  cryptoHashKey?: string;
  dateShiftKey?: string;
  encryptKey?: string;
}

export interface RunOptions {
  /** Override the profile's keys (hdx passes per-insurer keys). */
  keys?: RunKeys;
  /** Used instead of the top-level resource id in the date-shift offset (file/folder scope). */
  dateShiftKeyPrefix?: string;
  /** "Now" for the over-89 rule; tests pin it. */
  today?: Date;
  /** Use the rule-by-rule algorithm even where a plan exists (differential tests). */
  general?: boolean;
}

export interface RunCounts {
  /** Nodes changed per rule method; for `keep`, nodes kept. */
  methods: Record<string, number>;
}

// Like the anonymizer: without a configured key, a random one (per process) — never a fixed default.
const randomKeys = { cryptoHashKey: '', dateShiftKey: '', encryptKey: '' };
function randomKey(which: keyof typeof randomKeys): string {
  if (randomKeys[which] === '') randomKeys[which] = randomBytes(16).toString('hex');
  return randomKeys[which];
}

const AES_KEY_BYTES = new Set([16, 24, 32]);

/**
 * The AES key: the UTF-8 bytes of the key as the anonymizer takes them; failing that (a caller-derived
 * key), the key read as base64 if that gives an AES key size.
 */
function aesKey(encryptKey: string): Buffer | undefined {
  const utf8 = Buffer.from(encryptKey, 'utf8');
  if (AES_KEY_BYTES.has(utf8.length)) return utf8;
  const decoded = Buffer.from(encryptKey, 'base64');
  return AES_KEY_BYTES.has(decoded.length) && /^[A-Za-z0-9+/_-]+={0,2}$/.test(encryptKey) ? decoded : undefined;
}

export function runParameters(profile: CompiledProfile, options: RunOptions): RunParameters {
  const configured = profile.parameters;
  const keys = options.keys;
  const pick = (which: keyof RunKeys): string => {
    const supplied = keys?.[which];
    if (supplied !== undefined && supplied !== '') return supplied;
    return configured[which] !== '' ? configured[which] : randomKey(which);
  };
  // Written out rather than spread: this runs once per record.
  return {
    dateShiftKey: pick('dateShiftKey'),
    dateShiftScope: configured.dateShiftScope,
    dateShiftFixedOffsetInDays: configured.dateShiftFixedOffsetInDays,
    cryptoHashKey: pick('cryptoHashKey'),
    encryptKey: pick('encryptKey'),
    enablePartialAgesForRedact: configured.enablePartialAgesForRedact,
    enablePartialDatesForRedact: configured.enablePartialDatesForRedact,
    enablePartialZipCodesForRedact: configured.enablePartialZipCodesForRedact,
    restrictedZipCodeTabulationAreas: configured.restrictedZipCodeTabulationAreas,
    dateShiftKeyPrefix: options.dateShiftKeyPrefix ?? '',
    today: options.today ?? new Date(),
  };
}

const usesEncryptCache = new WeakMap<CompiledProfile, boolean>();
function usesEncrypt(profile: CompiledProfile): boolean {
  let uses = usesEncryptCache.get(profile);
  if (uses === undefined) {
    uses = profile.rules.some((rule) => rule.method === 'encrypt');
    usesEncryptCache.set(profile, uses);
  }
  return uses;
}

// The pads of the last few keys (one per insurer), so that a run does not start with two compressions.
const hmacs = new Map<string, HmacHex>();
function hmacFor(key: string): HmacHex {
  let hmac = hmacs.get(key);
  if (hmac === undefined) {
    if (hmacs.size >= 64) hmacs.clear();
    hmac = hmacSha256Hex(Buffer.from(key, 'utf8'));
    hmacs.set(key, hmac);
  }
  return hmac;
}

function memoised(hmac: HmacHex): (text: string) => string {
  const seen = new Map<string, string>();
  return (text) => {
    let hash = seen.get(text);
    if (hash === undefined) {
      hash = hmac(text);
      seen.set(text, hash);
    }
    return hash;
  };
}

function processRecursive(node: FNode, fn: MethodFn, rule: CompiledRule, state: RunState): number {
  if (node.visited) return 0;
  let ops = fn(node, rule, state);
  if (ops !== 0) state.changed[rule.methodIndex]!++;
  node.visited = true;
  const children = rule.method === 'substitute' ? node.children.slice() : node.children;
  for (const child of children) {
    if (!child.resource && !child.visited) ops |= processRecursive(child, fn, rule, state);
  }
  return ops;
}

function failed(rule: CompiledRule, resource: FNode, error: unknown): never {
  if (error instanceof DeidProcessingError) throw error;
  // Never pass on the underlying message: FHIRPath errors quote values.
  throw new DeidProcessingError(`rule ${rule.index + 1} (${rule.path}) failed on a ${resource.type}`);
}

function apply(node: FNode, rule: CompiledRule, state: RunState, resource: FNode): number {
  let ops: number;
  try {
    ops = METHOD_FNS[rule.method](node, rule, state);
  } catch (error) {
    failed(rule, resource, error);
  }
  if (ops !== 0) state.changed[rule.methodIndex]!++;
  node.visited = true;
  return ops;
}

/**
 * The plan's single walk: each node gets the first rule that selects it or an ancestor. Nodes already
 * processed (protected by the gateway) are skipped with their subtree, as the rule-by-rule algorithm
 * skips them. For the run's top-level resource, whose id the date shift reads, the decisions are applied
 * in rule order, exactly as rule by rule.
 */
function walkPlan(
  plan: ResourcePlan, parentState: PlanState, inherited: number, node: FNode, resource: FNode, state: RunState, deferred: [FNode, number][] | undefined,
): number {
  let ops = 0;
  for (const child of node.children) {
    if (child.resource || child.visited) continue;
    let childState = plan.child(parentState, child.info);
    if (childState.wheres.length > 0) childState = plan.resolve(childState, child);
    const own = childState.decision;
    const decided = inherited === -1 ? own : own === -1 ? inherited : Math.min(own, inherited);
    if (decided !== -1) {
      const rule = plan.rules[decided]!.rule;
      if (rule.method === 'keep' && own === decided && inherited !== decided) state.changed[rule.methodIndex]!++;
      if (deferred !== undefined) deferred.push([child, decided]);
      else ops |= apply(child, rule, state, resource);
    }
    if (child.children.length > 0) ops |= walkPlan(plan, childState, decided, child, resource, state, deferred);
  }
  return ops;
}

function processPlanned(resource: FNode, plan: ResourcePlan, state: RunState): number {
  let start = plan.start;
  if (start.wheres.length > 0) start = plan.resolve(start, resource);
  const isRoot = resource === state.root;
  const deferred: [FNode, number][] | undefined = isRoot ? [] : undefined;
  let ops = 0;
  if (start.decision !== -1 && !resource.visited) {
    const rule = plan.rules[start.decision]!.rule;
    if (rule.method === 'keep') state.changed[rule.methodIndex]!++;
    if (deferred !== undefined) deferred.push([resource, start.decision]);
    else ops |= apply(resource, rule, state, resource);
  }
  ops |= walkPlan(plan, start, start.decision, resource, resource, state, deferred);
  if (deferred !== undefined) {
    // Stable: within a rule, nodes keep the walk's (document) order.
    deferred.sort((a, b) => a[1] - b[1]);
    for (const [node, slot] of deferred) ops |= apply(node, plan.rules[slot]!.rule, state, resource);
  }
  return ops;
}

function processResource(resource: FNode, profile: CompiledProfile, state: RunState): number {
  const rules = profile.rulesFor(resource.type);
  if (rules.length === 0) return 0;
  const plan = state.general ? undefined : profile.planFor(resource.type);
  if (plan !== undefined) return processPlanned(resource, plan, state);
  const index = profile.usesIndex(resource.type) ? buildIndex(resource, profile.indexTypes, profile.indexNames) : undefined;
  let ops = 0;
  for (const rule of rules) {
    const fn = METHOD_FNS[rule.method];
    let matches: FNode[];
    try {
      matches = select(rule.selector, resource, index);
      for (const match of matches) {
        if (rule.method === 'keep' && !match.visited) state.changed[rule.methodIndex]!++;
        ops |= processRecursive(match, fn, rule, state);
      }
    } catch (error) {
      failed(rule, resource, error);
    }
  }
  return ops;
}

function visit(node: FNode, profile: CompiledProfile, state: RunState): number {
  let ops = node.resource ? processResource(node, profile, state) : 0;
  for (const child of node.children) {
    if (child.resource || child.children.length > 0) ops |= visit(child, profile, state);
  }
  // Labels are written with the resource (node.ts); contained resources pass theirs to the container.
  if (node.resource && node.name !== 'contained') node.ops = ops;
  return ops;
}

/**
 * The state of one run: parameters with the caller's keys, the AES key, the memoised keyed hash.
 * `root` is the run's top-level node (the date shift reads its id when no prefix is given).
 */
export function createRunState(profile: CompiledProfile, root: FNode, options: RunOptions = {}): RunState {
  const params = runParameters(profile, options);
  const encrypts = usesEncrypt(profile);
  const encryptKeyBytes = encrypts ? aesKey(params.encryptKey) : undefined;
  if (encrypts && encryptKeyBytes === undefined) {
    throw new TypeError('encryptKey must be 16, 24 or 32 bytes (as UTF-8, or base64)');
  }
  return {
    params,
    encryptKeyBytes,
    hash: memoised(hmacFor(params.cryptoHashKey)),
    changed: new Int32Array(METHODS.length),
    root,
    general: options.general === true,
  };
}

/** The report's per-method counts from a run's state. */
export function methodCounts(state: RunState): Record<string, number> {
  const methods: Record<string, number> = {};
  METHODS.forEach((method, i) => {
    if (state.changed[i]! > 0) methods[method] = state.changed[i]!;
  });
  return methods;
}

/** Applies the profile to the tree in place. Throws DeidProcessingError when a rule fails. */
export function runProfile(profile: CompiledProfile, root: FNode, options: RunOptions = {}): RunCounts {
  const state = createRunState(profile, root, options);
  visit(root, profile, state);
  return { methods: methodCounts(state) };
}
