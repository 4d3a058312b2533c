/**
 * The profile's JSON Schemas (profile/schema/*.json, draft 2020-12, published with the spec) and the
 * checker that applies them. The checker implements exactly the keywords these schemas use and refuses a
 * schema with any other (so a schema edit can never be silently ignored); its problems name the element
 * and what is expected — never the value. Integrators check the same files with any 2020-12 validator.
 */
import { readFileSync } from 'node:fs';
import { isObject, type Problem } from './types.js';

type Schema = Record<string, unknown>;
export type SchemaCheck = (data: unknown, root: string) => Problem[];

const ANNOTATIONS = ['$schema', '$id', 'title', 'description', '$defs'];
const KEYWORDS = new Set([
  ...ANNOTATIONS, 'type', 'required', 'properties', 'additionalProperties', 'items', 'minItems', 'maxItems', 'uniqueItems',
  'enum', 'const', 'pattern', 'minLength', 'minimum', 'multipleOf', '$ref', 'allOf', 'if', 'then',
]);

/** Wording for the named formats, by the $defs entry a failing pattern belongs to. */
const FORMAT_WORDING: Readonly<Record<string, string>> = {
  dateTime: 'must be a FHIR dateTime: a date, or date and time to the second with a time zone (2026-03-01T08:00:00+08:00)',
  date: 'must be a FHIR date (YYYY, YYYY-MM or YYYY-MM-DD)',
  id: 'must be a FHIR id (1–64 of A–Z a–z 0–9 - .)',
};

export function readSchema(name: string): Schema {
  return JSON.parse(readFileSync(new URL(`./schema/${name}`, import.meta.url), 'utf8')) as Schema;
}

/** Every sub-schema, for the keyword check at compile time. */
function subSchemas(schema: Schema): Schema[] {
  const out: Schema[] = [];
  for (const key of ['properties', '$defs'] as const) if (isObject(schema[key])) out.push(...(Object.values(schema[key]) as Schema[]));
  for (const key of ['items', 'if', 'then'] as const) if (isObject(schema[key])) out.push(schema[key] as Schema);
  if (Array.isArray(schema['allOf'])) out.push(...(schema['allOf'] as Schema[]));
  return out;
}

function assertKnownKeywords(schema: Schema, where: string): void {
  for (const key of Object.keys(schema)) if (!KEYWORDS.has(key)) throw new TypeError(`${where}: keyword ${key} is not supported by profile/schemas.ts`);
  if (schema['additionalProperties'] !== undefined && schema['additionalProperties'] !== false) {
    throw new TypeError(`${where}: only additionalProperties: false is supported`);
  }
  for (const sub of subSchemas(schema)) assertKnownKeywords(sub, where);
}

function typeMatches(type: string, data: unknown): boolean {
  switch (type) {
    case 'object': return isObject(data);
    case 'array': return Array.isArray(data);
    case 'string': return typeof data === 'string';
    case 'number': return typeof data === 'number' && Number.isFinite(data);
    case 'integer': return Number.isInteger(data);
    case 'boolean': return typeof data === 'boolean';
    default: throw new TypeError(`type ${type} is not supported`);
  }
}

const article = (type: string) => (type === 'object' || type === 'array' || type === 'integer' ? 'an' : 'a');

export function compileSchema(root: Schema): SchemaCheck {
  assertKnownKeywords(root, String(root['$id'] ?? 'schema'));
  const resolve = (ref: string): Schema => {
    const match = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(ref);
    const target = match && isObject(root['$defs']) ? (root['$defs'] as Schema)[match[1]!] : undefined;
    if (!isObject(target)) throw new TypeError(`$ref ${ref} does not resolve`);
    return target;
  };

  function check(schema: Schema, data: unknown, path: string, out: Problem[], named?: string): void {
    const add = (expected: string, at = path): void => void out.push({ path: at, expected });
    if (typeof schema['$ref'] === 'string') check(resolve(schema['$ref']), data, path, out, schema['$ref'].split('/').pop());
    if ('const' in schema && data !== schema['const']) return add(`must be ${JSON.stringify(schema['const'])}`);
    if (Array.isArray(schema['enum']) && !schema['enum'].includes(data)) {
      return add(`must be one of ${schema['enum'].map((v) => JSON.stringify(v)).join(', ')}`);
    }
    if (typeof schema['type'] === 'string' && !typeMatches(schema['type'], data)) return add(`must be ${article(schema['type'])} ${schema['type']}`);
    if (typeof data === 'string') {
      if (typeof schema['minLength'] === 'number' && [...data].length < schema['minLength']) add('must not be empty');
      if (typeof schema['pattern'] === 'string' && !new RegExp(schema['pattern'], 'u').test(data)) {
        add((named && FORMAT_WORDING[named]) ?? `must match ${schema['pattern']}`);
      }
    }
    if (typeof data === 'number') {
      if (typeof schema['minimum'] === 'number' && data < schema['minimum']) add(`must be ≥ ${schema['minimum']}`);
      const step = schema['multipleOf'];
      if (typeof step === 'number' && Math.abs(data / step - Math.round(data / step)) > 1e-6) add('must have at most two decimal places (fen)');
    }
    if (Array.isArray(data)) {
      if (typeof schema['minItems'] === 'number' && data.length < schema['minItems']) {
        add(`must have at least ${schema['minItems']} item${schema['minItems'] === 1 ? '' : 's'}`);
      }
      if (typeof schema['maxItems'] === 'number' && data.length > schema['maxItems']) add(`must have at most ${schema['maxItems']} items`);
      if (schema['uniqueItems'] === true && new Set(data.map((v) => JSON.stringify(v))).size !== data.length) add('must not repeat an item');
      if (isObject(schema['items'])) data.forEach((item, i) => check(schema['items'] as Schema, item, `${path}[${i}]`, out));
    }
    if (isObject(data)) {
      for (const key of Array.isArray(schema['required']) ? (schema['required'] as string[]) : []) {
        if (!(key in data)) add('is required', `${path}.${key}`);
      }
      const properties = isObject(schema['properties']) ? (schema['properties'] as Record<string, Schema>) : {};
      for (const [key, sub] of Object.entries(properties)) {
        if (!(key in data)) continue;
        const value = data[key];
        const label = key === 'resource' && isObject(value) && typeof value['resourceType'] === 'string' ? `(${value['resourceType']})` : '';
        check(sub, value, `${path}.${key}${label}`, out);
      }
      if (schema['additionalProperties'] === false) {
        for (const key of Object.keys(data)) if (!(key in properties)) add(`has an element the schema does not define (${key})`);
      }
    }
    for (const sub of Array.isArray(schema['allOf']) ? (schema['allOf'] as Schema[]) : []) check(sub, data, path, out);
    if (isObject(schema['if']) && isObject(schema['then'])) {
      const probe: Problem[] = [];
      check(schema['if'] as Schema, data, path, probe);
      if (probe.length === 0) check(schema['then'] as Schema, data, path, out);
    }
  }

  return (data, rootPath) => {
    const out: Problem[] = [];
    check(root, data, rootPath, out);
    const seen = new Set<string>();
    return out.filter((p) => !seen.has(`${p.path} ${p.expected}`) && seen.add(`${p.path} ${p.expected}`));
  };
}
