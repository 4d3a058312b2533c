/** Types shared by the engine's profile compiler, methods and runner. */
import type { NodeQuery, ValueExpression } from './fhirpath-bridge.js';
import type { FNode } from './node.js';
import type { ResourcePlan } from './plan.js';
import type { Selector } from './selector.js';

export type Method = 'keep' | 'redact' | 'dateShift' | 'cryptoHash' | 'encrypt' | 'substitute' | 'perturb' | 'generalize';

export const METHODS: readonly Method[] = [
  'keep', 'redact', 'dateShift', 'cryptoHash', 'encrypt', 'substitute', 'perturb', 'generalize',
];

/** What a method did to a node; each maps to a `meta.security` label. Bit flags so results add up cheaply. */
export const Op = {
  Redact: 1,
  Abstract: 2,
  CryptoHash: 4,
  Encrypt: 8,
  Perturb: 16,
  Substitute: 32,
  Generalize: 64,
} as const;

export interface GeneralizeCase {
  condition: ValueExpression;
  result: ValueExpression;
}

/** Outcomes of a generalize rule by value, for one day (cases may use today()); cases are pure otherwise. */
export interface GeneralizeMemo {
  day: string;
  outcomes: Map<string, { matched: boolean; value: string | number | boolean | null }>;
}

export type RuleSettings =
  | { method: 'keep' | 'redact' | 'dateShift' | 'cryptoHash' | 'encrypt' }
  | { method: 'substitute'; replaceWith: unknown }
  | { method: 'perturb'; span: number; proportional: boolean; roundTo: number }
  | { method: 'generalize'; cases: GeneralizeCase[]; otherValues: 'redact' | 'keep'; memo: GeneralizeMemo | undefined };

export interface CompiledRule {
  /** Position in `fhirPathRules` (0-based) and the path as written, for messages and reports. */
  readonly index: number;
  readonly path: string;
  readonly method: Method;
  /** The method's position in METHODS. */
  readonly methodIndex: number;
  /** '' = any resource type. */
  readonly resourceType: string;
  readonly selector: Selector;
  readonly settings: RuleSettings;
}

export interface ProfileParameters {
  dateShiftKey: string;
  dateShiftScope: 'resource' | 'file' | 'folder';
  dateShiftFixedOffsetInDays: number | undefined;
  cryptoHashKey: string;
  encryptKey: string;
  enablePartialAgesForRedact: boolean;
  enablePartialDatesForRedact: boolean;
  enablePartialZipCodesForRedact: boolean;
  restrictedZipCodeTabulationAreas: string[];
}

export interface CompiledProfile {
  readonly name: string;
  readonly description: string;
  readonly fhirVersion: string;
  /** An hdx profile (it has a `name`) or a Microsoft anonymizer configuration, which runs as that tool does. */
  readonly origin: 'hdx' | 'anonymizer';
  readonly processingErrors: 'raise' | 'skip';
  readonly rules: readonly CompiledRule[];
  /** Parameters as configured; keys may be empty (then the caller supplies them, or random ones are used). */
  readonly parameters: Readonly<ProfileParameters>;
  /** Types and names used by `nodesByType`/`nodesByName` index rules. */
  readonly indexTypes: ReadonlySet<string>;
  readonly indexNames: ReadonlySet<string>;
  /** Things that load but look wrong (e.g. a member that R4 does not define); shown by `hdx deid --check`. */
  readonly warnings: readonly string[];
  /** The rules that apply to a resource type, in order (cached). */
  rulesFor(resourceType: string): readonly CompiledRule[];
  /** Whether any of those rules selects through the nodesByType/nodesByName index. */
  usesIndex(resourceType: string): boolean;
  /** The compiled one-walk form of those rules, if they allow it (plan.ts). */
  planFor(resourceType: string): ResourcePlan | undefined;
}

/** Keys and settings in force for one run. */
export interface RunParameters extends ProfileParameters {
  /** Replaces the resource id in the date-shift offset (file/folder scope, or the gateway's choice). */
  dateShiftKeyPrefix: string;
  today: Date;
}

export interface RunState {
  readonly params: RunParameters;
  readonly encryptKeyBytes: Buffer | undefined;
  /** HMAC-SHA256 (hex) under the run's cryptoHashKey, remembered for the run: ids recur as references. */
  readonly hash: (text: string) => string;
  /** Nodes changed, per rule method, indexed like METHODS (for the report; counts only). */
  readonly changed: Int32Array;
  /** The top-level node of the run (the Bundle or single resource). */
  readonly root: FNode;
  /** Rule by rule only, no plans. */
  readonly general: boolean;
}

export type MethodFn = (node: FNode, rule: CompiledRule, state: RunState) => number;

export type { NodeQuery };
