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
import { buildIndex, select } from './selector.js';
import { METHODS, type CompiledProfile, type CompiledRule, type Method, type MethodFn, type RunParameters, type RunState } from './types.js';

const METHOD_FNS: Record<Method, MethodFn> = {
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
  const pick = (which: keyof RunKeys): string => {
    const supplied = options.keys?.[which];
    if (supplied !== undefined && supplied !== '') return supplied;
    return configured[which] !== '' ? configured[which] : randomKey(which);
  };
  return {
    ...configured,
    cryptoHashKey: pick('cryptoHashKey'),
    dateShiftKey: pick('dateShiftKey'),
    encryptKey: pick('encryptKey'),
    dateShiftKeyPrefix: options.dateShiftKeyPrefix ?? '',
    today: options.today ?? new Date(),
  };
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

function processResource(resource: FNode, profile: CompiledProfile, state: RunState): number {
  const rules = profile.rulesFor(resource.type);
  if (rules.length === 0) return 0;
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
      if (error instanceof DeidProcessingError) throw error;
      // Never pass on the underlying message: FHIRPath errors quote values.
      throw new DeidProcessingError(`rule ${rule.index + 1} (${rule.path}) failed on a ${resource.type}`);
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

/** Applies the profile to the tree in place. Throws DeidProcessingError when a rule fails. */
export function runProfile(profile: CompiledProfile, root: FNode, options: RunOptions = {}): RunCounts {
  const params = runParameters(profile, options);
  const usesEncrypt = profile.rules.some((rule) => rule.method === 'encrypt');
  const encryptKeyBytes = usesEncrypt ? aesKey(params.encryptKey) : undefined;
  if (usesEncrypt && encryptKeyBytes === undefined) {
    throw new TypeError('encryptKey must be 16, 24 or 32 bytes (as UTF-8, or base64)');
  }
  const state: RunState = {
    params,
    encryptKeyBytes,
    hash: memoised(hmacFor(params.cryptoHashKey)),
    changed: new Int32Array(METHODS.length),
    root,
  };
  visit(root, profile, state);
  const methods: Record<string, number> = {};
  METHODS.forEach((method, i) => {
    if (state.changed[i]! > 0) methods[method] = state.changed[i]!;
  });
  return { methods };
}
