/**
 * The profile's JSON Schemas (profile/schema/*.json, published with the spec) compiled with ajv, and
 * ajv's errors turned into problems that name the element and what is expected — never the value.
 */
import { readFileSync } from 'node:fs';
import { Ajv2020, type ErrorObject, type ValidateFunction } from 'ajv/dist/2020.js';
import { isObject, type Problem } from './types.js';

const ajv = new Ajv2020({ allErrors: true, strict: true, strictTypes: false, strictRequired: false, multipleOfPrecision: 6 });

export function readSchema(name: string): Record<string, unknown> {
  return JSON.parse(readFileSync(new URL(`./schema/${name}`, import.meta.url), 'utf8')) as Record<string, unknown>;
}

export function compileSchema(schema: Record<string, unknown>): ValidateFunction {
  return ajv.compile(schema);
}

/** Human wording for the schema's named formats, found by the $defs a failing keyword sits in. */
const FORMAT_WORDING: Array<[string, string]> = [
  ['/$defs/dateTime/', 'must be a FHIR dateTime: a date, or date and time to the second with a time zone (2026-03-01T08:00:00+08:00)'],
  ['/$defs/date/', 'must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)'],
  ['/$defs/id/', 'must be a FHIR id (1–64 of A–Z a–z 0–9 - .)'],
];

function expectedOf(error: ErrorObject): string | undefined {
  const p = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'if':
    case 'oneOf':
    case 'anyOf':
      return undefined; // the branch's own errors say what is wrong
    case 'required':
      return 'is required';
    case 'type':
      return `must be ${p['type'] === 'object' || p['type'] === 'array' ? 'an' : 'a'} ${String(p['type'])}`;
    case 'const':
      return `must be ${JSON.stringify(p['allowedValue'])}`;
    case 'enum':
      return `must be one of ${(p['allowedValues'] as unknown[]).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'pattern':
      return FORMAT_WORDING.find(([def]) => error.schemaPath.includes(def))?.[1] ?? `must match ${String(p['pattern'])}`;
    case 'minItems':
      return `must have at least ${String(p['limit'])} item${p['limit'] === 1 ? '' : 's'}`;
    case 'maxItems':
      return `must have at most ${String(p['limit'])} items`;
    case 'minLength':
      return 'must not be empty';
    case 'minimum':
      return `must be ≥ ${String(p['limit'])}`;
    case 'multipleOf':
      return 'must have at most two decimal places (fen)';
    case 'uniqueItems':
      return 'must not repeat an item';
    case 'additionalProperties':
      return `has an element the schema does not define (${String(p['additionalProperty'])})`;
    default:
      return error.message ?? 'is invalid';
  }
}

/** `/entry/3/resource/period/start` → `Bundle.entry[3].resource(Encounter).period.start`. */
function pathOf(root: string, instancePath: string, data: unknown): string {
  let path = root;
  let node: unknown = data;
  for (const raw of instancePath.split('/').slice(1)) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    node = isObject(node) || Array.isArray(node) ? (node as Record<string, unknown>)[segment] : undefined;
    path += /^\d+$/.test(segment) ? `[${segment}]` : `.${segment}`;
    if (segment === 'resource' && isObject(node) && typeof node['resourceType'] === 'string') path += `(${node['resourceType']})`;
  }
  return path;
}

export function schemaProblems(validate: ValidateFunction, data: unknown, root: string): Problem[] {
  if (validate(data)) return [];
  const seen = new Set<string>();
  const problems: Problem[] = [];
  for (const error of validate.errors ?? []) {
    const expected = expectedOf(error);
    if (expected === undefined) continue;
    const missing = error.keyword === 'required' ? `.${String((error.params as Record<string, unknown>)['missingProperty'])}` : '';
    const problem = { path: pathOf(root, error.instancePath, data) + missing, expected };
    const key = `${problem.path} ${problem.expected}`;
    if (!seen.has(key)) problems.push(problem), seen.add(key);
  }
  return problems;
}
