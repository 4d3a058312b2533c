/**
 * Loads a profile written in the rule format of Microsoft's FHIR anonymizer and compiles it once:
 * paths parsed (fast selectors where possible, FHIRPath otherwise), settings checked, generalize cases
 * compiled. Anything the engine cannot honour is refused here, naming the rule or parameter — a profile
 * is never applied half-way.
 */
import { readFileSync } from 'node:fs';
import { basename, extname } from 'node:path';
import { InvalidProfile } from './errors.js';
import { compileValueExpression, type ValueExpression } from './fhirpath-bridge.js';
import { childInfo, isResourceType, RESOURCE_TYPES } from './model.js';
import { tryPlan, type ResourcePlan } from './plan.js';
import { parsePath, type ParsedPath } from './selector.js';
import {
  METHODS, type CompiledProfile, type CompiledRule, type GeneralizeCase, type Method, type ProfileParameters, type RuleSettings,
} from './types.js';

type Json = Record<string, unknown>;

const TOP_LEVEL_KEYS = new Set(['fhirVersion', 'processingErrors', 'fhirPathRules', 'parameters', 'name', 'description']);
const RULE_KEYS: Record<Method, readonly string[]> = {
  keep: [], redact: [], dateShift: [], cryptoHash: [], encrypt: [],
  substitute: ['replaceWith'],
  perturb: ['span', 'rangeType', 'roundTo'],
  generalize: ['cases', 'otherValues'],
};
const PARAMETER_KEYS = new Set([
  'dateShiftKey', 'dateShiftScope', 'dateShiftFixedOffsetInDays', 'cryptoHashKey', 'encryptKey', 'enablePartialAgesForRedact',
  'enablePartialDatesForRedact', 'enablePartialZipCodesForRedact', 'restrictedZipCodeTabulationAreas',
]);

function isObject(value: unknown): value is Json {
  return typeof value === 'object' && value !== null && !Array.isArray(value);
}

function stripBom(text: string): string {
  return text.charCodeAt(0) === 0xfeff ? text.slice(1) : text;
}

/** Reads a profile's JSON from a file, or from JSON text. */
export function readProfileSource(pathOrJson: string): { json: unknown; name: string } {
  const text = stripBom(pathOrJson).trimStart();
  if (text.startsWith('{')) return { json: parseJson(text, 'profile'), name: 'inline' };
  let content: string;
  try {
    content = readFileSync(pathOrJson, 'utf8');
  } catch {
    throw new InvalidProfile(`profile file ${basename(pathOrJson)} cannot be read`);
  }
  const name = basename(pathOrJson, extname(pathOrJson));
  return { json: parseJson(stripBom(content), name), name };
}

function parseJson(text: string, name: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    throw new InvalidProfile(`profile ${name} is not valid JSON`);
  }
}

function methodOf(value: unknown): Method | undefined {
  if (typeof value !== 'string') return undefined;
  return METHODS.find((method) => method.toLowerCase() === value.toLowerCase());
}

function ruleName(index: number, path: unknown): string {
  return `rule ${index + 1}${typeof path === 'string' ? ` (${path})` : ''}`;
}

function compileCase(expression: string, what: string): ValueExpression {
  try {
    return compileValueExpression(expression);
  } catch {
    throw new InvalidProfile(`${what} is not a valid FHIRPath expression`);
  }
}

function caseText(value: unknown): string | undefined {
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean') return String(value);
  return undefined;
}

function ruleSettings(method: Method, rule: Json, name: string): RuleSettings {
  switch (method) {
    case 'substitute':
      if (!('replaceWith' in rule)) throw new InvalidProfile(`${name}: substitute needs replaceWith`);
      if (typeof rule['replaceWith'] === 'string' && rule['replaceWith'].trimStart().startsWith('{')) {
        parseJson(rule['replaceWith'], name);
      }
      return { method, replaceWith: rule['replaceWith'] };
    case 'perturb': {
      const span = Number(rule['span']);
      if (!('span' in rule)) throw new InvalidProfile(`${name}: perturb needs span`);
      if (!Number.isFinite(span) || span < 0) throw new InvalidProfile(`${name}: span must be a number ≥ 0`);
      const roundTo = 'roundTo' in rule ? Number(rule['roundTo']) : 2;
      if (!Number.isInteger(roundTo) || roundTo < 0 || roundTo > 28) throw new InvalidProfile(`${name}: roundTo must be an integer 0–28`);
      const rangeType = rule['rangeType'] ?? 'fixed';
      if (typeof rangeType !== 'string' || !['fixed', 'proportional'].includes(rangeType.toLowerCase())) {
        throw new InvalidProfile(`${name}: rangeType must be fixed or proportional`);
      }
      return { method, span, roundTo, proportional: rangeType.toLowerCase() === 'proportional' };
    }
    case 'generalize': {
      const cases = typeof rule['cases'] === 'string' ? parseJson(rule['cases'], name) : rule['cases'];
      if (!isObject(cases)) throw new InvalidProfile(`${name}: generalize needs cases (an object of condition: result)`);
      const compiled: GeneralizeCase[] = Object.entries(cases).map(([condition, result], position) => {
        const resultText = caseText(result);
        if (resultText === undefined) throw new InvalidProfile(`${name}: case ${position + 1} needs an expression as its result`);
        return {
          condition: compileCase(condition, `${name}: case ${position + 1} condition`),
          result: compileCase(resultText, `${name}: case ${position + 1} result`),
        };
      });
      const otherValues = rule['otherValues'] ?? 'redact';
      if (typeof otherValues !== 'string' || !['redact', 'keep'].includes(otherValues.toLowerCase())) {
        throw new InvalidProfile(`${name}: otherValues must be redact or keep`);
      }
      // Cases that read the clock below a day (now(), timeOfDay()) are evaluated every time.
      const texts = Object.entries(cases).flat().map(String).join(' ');
      const memo = /\b(now|timeOfDay)\s*\(/.test(texts) ? undefined : { day: '', outcomes: new Map() };
      return { method, cases: compiled, otherValues: otherValues.toLowerCase() === 'keep' ? 'keep' : 'redact', memo };
    }
    default:
      return { method };
  }
}

/** Member names that R4 does not define on the rule's resource type: a likely typo, so a warning. */
function memberWarnings(parsed: ParsedPath, name: string): string[] {
  if (parsed.selector.kind !== 'steps' || !isResourceType(parsed.resourceType)) return [];
  let typePaths = [parsed.resourceType];
  for (const step of parsed.selector.steps) {
    if (step.kind !== 'member') return [];
    const next: string[] = [];
    for (const typePath of typePaths) {
      const info = childInfo(typePath, step.name);
      if (info !== undefined) next.push(info.typePath);
      else if (RESOURCE_TYPES.has(typePath) || typePath.includes('.') || /^[A-Z]/.test(typePath)) {
        // A choice element (`value`) has no single type: stop checking below it.
        if (step.name !== 'value' && !isChoiceBase(typePath, step.name)) {
          return [`${name}: ${typePath} has no element ${step.name}; the rule will never match`];
        }
        return [];
      }
    }
    typePaths = next;
  }
  return [];
}

function isChoiceBase(typePath: string, name: string): boolean {
  for (const suffix of ['String', 'Boolean', 'DateTime', 'Quantity', 'CodeableConcept', 'Reference', 'Period', 'Integer', 'Date', 'Age']) {
    if (childInfo(typePath, name + suffix) !== undefined) return true;
  }
  return false;
}

function compileRule(raw: unknown, index: number, warnings: string[]): CompiledRule {
  if (!isObject(raw)) throw new InvalidProfile(`rule ${index + 1} must be an object with path and method`);
  const name = ruleName(index, raw['path']);
  const path = raw['path'];
  if (typeof path !== 'string' || path.trim() === '') throw new InvalidProfile(`${name}: missing path`);
  const method = methodOf(raw['method']);
  if (method === undefined) {
    throw new InvalidProfile(`${name}: method ${JSON.stringify(raw['method'] ?? null)} is not supported (one of ${METHODS.join(', ')})`);
  }
  let parsed: ParsedPath;
  try {
    parsed = parsePath(path);
  } catch {
    throw new InvalidProfile(`${name}: path is not a valid FHIRPath expression`);
  }
  for (const key of Object.keys(raw)) {
    if (key !== 'path' && key !== 'method' && !RULE_KEYS[method].includes(key)) warnings.push(`${name}: setting ${key} is ignored by ${method}`);
  }
  warnings.push(...memberWarnings(parsed, name));
  return {
    index, path, method, methodIndex: METHODS.indexOf(method), resourceType: parsed.resourceType, selector: parsed.selector,
    settings: ruleSettings(method, raw, name),
  };
}

function stringParameter(parameters: Json, key: string): string {
  const value = parameters[key];
  if (value === undefined || value === null) return '';
  if (typeof value !== 'string') throw new InvalidProfile(`parameter ${key} must be a string`);
  return value;
}

function booleanParameter(parameters: Json, key: string): boolean {
  const value = parameters[key];
  if (value === undefined || value === null) return false;
  if (typeof value !== 'boolean') throw new InvalidProfile(`parameter ${key} must be true or false`);
  return value;
}

function compileParameters(raw: unknown, warnings: string[]): ProfileParameters {
  if (raw !== undefined && raw !== null && !isObject(raw)) throw new InvalidProfile('parameters must be an object');
  const parameters: Json = raw ?? {};
  for (const key of Object.keys(parameters)) {
    if (!PARAMETER_KEYS.has(key)) warnings.push(`parameter ${key} is not used by this engine`);
  }
  const scope = stringParameter(parameters, 'dateShiftScope').toLowerCase() || 'resource';
  if (scope !== 'resource' && scope !== 'file' && scope !== 'folder') {
    throw new InvalidProfile('parameter dateShiftScope must be resource, file or folder');
  }
  const fixed = parameters['dateShiftFixedOffsetInDays'];
  if (fixed !== undefined && fixed !== null && !(typeof fixed === 'number' && Number.isInteger(fixed))) {
    throw new InvalidProfile('parameter dateShiftFixedOffsetInDays must be a whole number of days');
  }
  const encryptKey = stringParameter(parameters, 'encryptKey');
  const encryptBytes = Buffer.byteLength(encryptKey, 'utf8');
  if (encryptKey !== '' && ![16, 24, 32].includes(encryptBytes)) {
    throw new InvalidProfile(`parameter encryptKey has ${encryptBytes * 8} bits; AES needs 128, 192 or 256`);
  }
  const areas = parameters['restrictedZipCodeTabulationAreas'] ?? [];
  if (!Array.isArray(areas) || !areas.every((area): area is string => typeof area === 'string')) {
    throw new InvalidProfile('parameter restrictedZipCodeTabulationAreas must be a list of strings');
  }
  return {
    dateShiftKey: stringParameter(parameters, 'dateShiftKey'),
    dateShiftScope: scope,
    dateShiftFixedOffsetInDays: typeof fixed === 'number' ? fixed : undefined,
    cryptoHashKey: stringParameter(parameters, 'cryptoHashKey'),
    encryptKey,
    enablePartialAgesForRedact: booleanParameter(parameters, 'enablePartialAgesForRedact'),
    enablePartialDatesForRedact: booleanParameter(parameters, 'enablePartialDatesForRedact'),
    enablePartialZipCodesForRedact: booleanParameter(parameters, 'enablePartialZipCodesForRedact'),
    restrictedZipCodeTabulationAreas: areas,
  };
}

/** Validates and compiles a profile from its parsed JSON. Throws InvalidProfile naming the problem. */
export function compileProfile(json: unknown, fallbackName: string): CompiledProfile {
  if (!isObject(json)) throw new InvalidProfile(`profile ${fallbackName} must be a JSON object`);
  const warnings: string[] = [];
  for (const key of Object.keys(json)) if (!TOP_LEVEL_KEYS.has(key)) warnings.push(`top-level setting ${key} is ignored`);
  const fhirVersion = json['fhirVersion'] ?? '';
  if (typeof fhirVersion !== 'string' || !['', 'r4'].includes(fhirVersion.toLowerCase())) {
    throw new InvalidProfile('fhirVersion must be R4 (or empty)');
  }
  const errors = typeof json['processingErrors'] === 'string' ? json['processingErrors'].toLowerCase() : json['processingErrors'] ?? 'raise';
  if (errors !== 'raise' && errors !== 'skip' && errors !== 'ignoreinvalid') {
    throw new InvalidProfile('processingErrors must be raise or skip');
  }
  if (!Array.isArray(json['fhirPathRules'])) throw new InvalidProfile('fhirPathRules must be a list of rules');
  const rules = json['fhirPathRules'].map((rule, index) => compileRule(rule, index, warnings));
  const parameters = compileParameters(json['parameters'], warnings);
  const name = typeof json['name'] === 'string' && json['name'] !== '' ? json['name'] : fallbackName;
  const indexTypes = new Set<string>();
  const indexNames = new Set<string>();
  for (const rule of rules) {
    if (rule.selector.kind === 'index') (rule.selector.by === 'type' ? indexTypes : indexNames).add(rule.selector.key);
  }
  const byType = new Map<string, readonly CompiledRule[]>();
  const rulesFor = (resourceType: string): readonly CompiledRule[] => {
    let list = byType.get(resourceType);
    if (list === undefined) {
      list = rules.filter(
        (rule) => rule.resourceType === '' || rule.resourceType === resourceType || rule.resourceType === 'Resource' || rule.resourceType === 'DomainResource',
      );
      byType.set(resourceType, list);
    }
    return list;
  };
  const indexed = new Map<string, boolean>();
  const plans = new Map<string, ResourcePlan | null>();
  return {
    name,
    description: typeof json['description'] === 'string' ? json['description'] : '',
    fhirVersion: 'R4',
    origin: typeof json['name'] === 'string' ? 'hdx' : 'anonymizer',
    processingErrors: errors === 'raise' ? 'raise' : 'skip',
    rules,
    parameters,
    indexTypes,
    indexNames,
    warnings,
    rulesFor,
    planFor(resourceType: string): ResourcePlan | undefined {
      let plan = plans.get(resourceType);
      if (plan === undefined) {
        plan = tryPlan(rulesFor(resourceType), resourceType) ?? null;
        plans.set(resourceType, plan);
      }
      return plan ?? undefined;
    },
    usesIndex(resourceType: string): boolean {
      let uses = indexed.get(resourceType);
      if (uses === undefined) {
        uses = rulesFor(resourceType).some((rule) => rule.selector.kind === 'index');
        indexed.set(resourceType, uses);
      }
      return uses;
    },
  };
}

/** `loadProfile` for a file path, JSON text or an already-parsed object. */
export function loadProfile(pathOrJson: string | object): CompiledProfile {
  if (typeof pathOrJson === 'string') {
    const { json, name } = readProfileSource(pathOrJson);
    return compileProfile(json, name);
  }
  return compileProfile(pathOrJson, 'inline');
}
