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

/** Resource types the schemas name (`resourceType: {const}`): only these label a path, never a client's string. */
const NAMED_TYPES = new Set<string>();
/** A FHIR element name; anything else a client wrote as a key is not quoted back. */
const ELEMENT_NAME = /^_?[a-z][A-Za-z0-9]{0,63}$/;

function assertKnownKeywords(schema: Schema, where: string): void {
  const named = isObject(schema['properties']) ? (schema['properties'] as Record<string, Schema>)['resourceType']?.['const'] : undefined;
  if (typeof named === 'string') NAMED_TYPES.add(named);
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

/**
 * A path built only when a problem needs it: the parent's path and this step — an array index, or a
 * member name with the resource type that labels it — so the walk that passes makes no strings.
 */
interface Path {
  parent: Path | null;
  step: string | number;
  label?: string;
}
const stepText = (p: Path): string =>
  typeof p.step === 'number' ? `[${p.step}]` : p.parent ? `.${p.step}${p.label ? `(${p.label})` : ''}` : p.step;
const pathText = (p: Path): string => (p.parent ? pathText(p.parent) : '') + stepText(p);
/** Code points, counted only when the UTF-16 length leaves the answer open (a code point is 1 or 2 units). */
const shorterThan = (text: string, min: number) => text.length < min || (text.length < 2 * min && [...text].length < min);

type Node = (data: unknown, path: Path, out: Problem[]) => void;

/**
 * Compiles the schema once into a tree of closures (references resolved, patterns built, property lists
 * made), so a bundle is checked in one walk with no allocation on the paths that pass.
 */
export function compileSchema(root: Schema): SchemaCheck {
  assertKnownKeywords(root, String(root['$id'] ?? 'schema'));
  const compiled = new Map<Schema, Node>();
  const resolve = (ref: string): Schema => {
    const match = /^#\/\$defs\/([A-Za-z0-9_-]+)$/.exec(ref);
    const target = match && isObject(root['$defs']) ? (root['$defs'] as Schema)[match[1]!] : undefined;
    if (!isObject(target)) throw new TypeError(`$ref ${ref} does not resolve`);
    return target;
  };

  function compile(schema: Schema, named?: string): Node {
    const known = compiled.get(schema);
    if (known) return known;
    let body: Node | undefined;
    const node: Node = (data, path, out) => body!(data, path, out);
    compiled.set(schema, node);
    const add = (out: Problem[], path: Path, expected: string) => void out.push({ path: pathText(path), expected });

    const ref = typeof schema['$ref'] === 'string' ? schema['$ref'] : undefined;
    const refNode = ref ? compile(resolve(ref), ref.split('/').pop()) : undefined;
    const hasConst = 'const' in schema;
    const constant = schema['const'];
    const enumValues = Array.isArray(schema['enum']) ? (schema['enum'] as unknown[]) : undefined;
    const type = typeof schema['type'] === 'string' ? schema['type'] : undefined;
    const minLength = typeof schema['minLength'] === 'number' ? schema['minLength'] : undefined;
    const pattern = typeof schema['pattern'] === 'string' ? new RegExp(schema['pattern'], 'u') : undefined;
    const patternWording = pattern ? ((named && FORMAT_WORDING[named]) ?? `must match ${String(schema['pattern'])}`) : '';
    const minimum = typeof schema['minimum'] === 'number' ? schema['minimum'] : undefined;
    const step = typeof schema['multipleOf'] === 'number' ? schema['multipleOf'] : undefined;
    const minItems = typeof schema['minItems'] === 'number' ? schema['minItems'] : undefined;
    const maxItems = typeof schema['maxItems'] === 'number' ? schema['maxItems'] : undefined;
    const unique = schema['uniqueItems'] === true;
    const items = isObject(schema['items']) ? compile(schema['items'] as Schema) : undefined;
    const required = Array.isArray(schema['required']) ? (schema['required'] as string[]) : [];
    const properties = Object.entries(isObject(schema['properties']) ? (schema['properties'] as Record<string, Schema>) : {}).map(
      ([key, sub]) => [key, compile(sub)] as const,
    );
    const closed = schema['additionalProperties'] === false ? new Set(properties.map(([key]) => key)) : undefined;
    const allOf = Array.isArray(schema['allOf']) ? (schema['allOf'] as Schema[]).map((sub) => compile(sub)) : [];
    const ifNode = isObject(schema['if']) ? compile(schema['if'] as Schema) : undefined;
    const thenNode = isObject(schema['then']) ? compile(schema['then'] as Schema) : undefined;

    body = (data, path, out) => {
      if (refNode) refNode(data, path, out);
      if (hasConst && data !== constant) return add(out, path, `must be ${JSON.stringify(constant)}`);
      if (enumValues && !enumValues.includes(data)) return add(out, path, `must be one of ${enumValues.map((v) => JSON.stringify(v)).join(', ')}`);
      if (type && !typeMatches(type, data)) return add(out, path, `must be ${article(type)} ${type}`);
      if (typeof data === 'string') {
        if (minLength !== undefined && shorterThan(data, minLength)) add(out, path, 'must not be empty');
        if (pattern && !pattern.test(data)) add(out, path, patternWording);
      } else if (typeof data === 'number') {
        if (minimum !== undefined && data < minimum) add(out, path, `must be ≥ ${minimum}`);
        if (step !== undefined && Math.abs(data / step - Math.round(data / step)) > 1e-6) add(out, path, 'must have at most two decimal places (fen)');
      } else if (Array.isArray(data)) {
        if (minItems !== undefined && data.length < minItems) add(out, path, `must have at least ${minItems} item${minItems === 1 ? '' : 's'}`);
        if (maxItems !== undefined && data.length > maxItems) add(out, path, `must have at most ${maxItems} items`);
        if (unique && new Set(data.map((v) => JSON.stringify(v))).size !== data.length) add(out, path, 'must not repeat an item');
        if (items) for (let i = 0; i < data.length; i++) items(data[i], { parent: path, step: i }, out);
      } else if (isObject(data)) {
        for (const key of required) if (!(key in data)) add(out, { parent: path, step: key }, 'is required');
        for (const [key, sub] of properties) {
          if (!(key in data)) continue;
          const value = data[key];
          const type = key === 'resource' && isObject(value) ? value['resourceType'] : undefined;
          const step: Path = typeof type === 'string' && NAMED_TYPES.has(type) ? { parent: path, step: key, label: type } : { parent: path, step: key };
          sub(value, step, out);
        }
        if (closed) {
          for (const key of Object.keys(data)) {
            if (!closed.has(key)) add(out, path, ELEMENT_NAME.test(key) ? `has an element the schema does not define (${key})` : 'has an element the schema does not define');
          }
        }
      }
      for (const sub of allOf) sub(data, path, out);
      if (ifNode && thenNode) {
        const probe: Problem[] = [];
        ifNode(data, path, probe);
        if (probe.length === 0) thenNode(data, path, out);
      }
    };
    return node;
  }

  const rootNode = compile(root);
  return (data, rootPath) => {
    const out: Problem[] = [];
    rootNode(data, { parent: null, step: rootPath }, out);
    const seen = new Set<string>();
    return out.filter((p) => !seen.has(`${p.path} ${p.expected}`) && seen.add(`${p.path} ${p.expected}`));
  };
}
